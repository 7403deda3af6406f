"""Huey wrappers: take ids, call a service."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from gongzhi.doorplates.services import print_job_run


@db_task()
def print_job_task(job_id: int) -> None:
    # Idempotent: print_job_run claims the job (queued → running) before doing anything.
    print_job_run(job_id=job_id)
