"""Reads for the doorplate pages: print jobs are seen by everyone whose scope holds their place."""

from __future__ import annotations

from django.db.models import QuerySet

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core.errors import NotFound
from gongzhi.doorplates.models import PrintJob
from gongzhi.territory.models import Node


def _jobs_for(actor: Actor) -> QuerySet[PrintJob]:
    return PrintJob.objects.filter(scope_q(actor, "node__path", Perm.VIEW_NETWORK)).select_related(
        "node", "requested_by"
    )


def print_job_get(*, actor: Actor, job_id: int) -> PrintJob:
    job = _jobs_for(actor).filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job


def print_job_list(*, actor: Actor, node: Node | None = None, limit: int = 20) -> list[PrintJob]:
    jobs = _jobs_for(actor)
    if node is not None:
        jobs = jobs.filter(node=node)
    return list(jobs.order_by("-created_at", "-pk")[:limit])
