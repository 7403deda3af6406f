"""huey wrappers for the outbox: a kick after each commit that queued messages, and a sweep every minute
(retries come due; a kick lost with a crashed queue is made up for within a minute)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from gongzhi.config.huey import huey


@db_task()
def deliver_due() -> int:
    from gongzhi.notifications.delivery import deliver_pending

    return deliver_pending().handled


@db_periodic_task(crontab(minute="*"))
@huey.lock_task("notifications-deliver")
def deliver_due_periodically() -> int:
    from gongzhi.notifications.delivery import deliver_pending

    return deliver_pending().handled
