"""Delivery of the outbox (filled in by the notifications work)."""

from __future__ import annotations

from huey import crontab

from gongzhi.config.huey import huey


@huey.db_task()
def deliver_due() -> int:
    from gongzhi.notifications.delivery import deliver_pending

    return deliver_pending()


@huey.db_periodic_task(crontab(minute="*"))
def deliver_due_periodically() -> int:
    from gongzhi.notifications.delivery import deliver_pending

    return deliver_pending()
