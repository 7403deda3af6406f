"""Reads of import jobs: a job is seen by the one who uploaded it (and system administrators)."""

from __future__ import annotations

from django.db.models import QuerySet

from gongzhi.accounts.scope import Actor
from gongzhi.core.errors import NotFound
from gongzhi.imports.models import ImportJob


def _jobs_for(actor: Actor) -> QuerySet[ImportJob]:
    jobs = ImportJob.objects.select_related("created_by")
    if actor.is_superuser:
        return jobs
    if actor.user is None:
        return jobs.none()
    return jobs.filter(created_by=actor.user)


def import_job_get(*, actor: Actor, job_id: int) -> ImportJob:
    job = _jobs_for(actor).filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job


def import_job_list(*, actor: Actor, limit: int = 10) -> list[ImportJob]:
    return list(_jobs_for(actor).order_by("-created_at", "-pk")[:limit])
