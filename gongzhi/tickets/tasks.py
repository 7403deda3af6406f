"""huey wrappers of the tickets domain."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from gongzhi.config.huey import huey


@db_periodic_task(crontab(minute="*"))
@huey.lock_task("tickets-sweep")
def sweep_tickets() -> dict[str, int]:
    from dataclasses import asdict

    from gongzhi.tickets.services.sweep import tickets_sweep

    return asdict(tickets_sweep())
