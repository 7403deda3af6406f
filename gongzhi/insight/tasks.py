"""huey wrappers of the insight domain."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from gongzhi.config.huey import huey


@db_periodic_task(crontab(minute="*"))
@huey.lock_task("insight-rollups")
def update_rollups() -> dict[str, int]:
    # Rebuilds roll-ups of an older shape (after a deploy) or recounts them after a grid moved,
    # then folds the new events.
    from dataclasses import asdict

    from gongzhi.insight.services import rollups_maintain

    return asdict(rollups_maintain())


@db_task()
def monthly_report_task(report_id: int) -> None:
    # Idempotent: monthly_report_run claims the report (queued → running) before doing anything.
    from gongzhi.insight.report import monthly_report_run

    monthly_report_run(report_id=report_id)
