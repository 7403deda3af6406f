"""huey wrappers of the insight domain."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from gongzhi.config.huey import huey


@db_periodic_task(crontab(minute="*"))
@huey.lock_task("insight-rollups")
def update_rollups() -> dict[str, int]:
    from dataclasses import asdict

    from gongzhi.insight.services import rollups_update

    return asdict(rollups_update())


@db_task()
def monthly_report_task(report_id: int) -> None:
    # Idempotent: monthly_report_run claims the report (queued → running) before doing anything.
    from gongzhi.insight.report import monthly_report_run

    monthly_report_run(report_id=report_id)
