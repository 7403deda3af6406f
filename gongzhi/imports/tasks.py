"""Huey wrappers: take ids, call a service."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from gongzhi.imports.services import import_job_run


@db_task()
def import_job_task(job_id: int) -> None:
    # Idempotent: import_job_run claims the job (queued → running) before doing anything.
    import_job_run(job_id=job_id)
