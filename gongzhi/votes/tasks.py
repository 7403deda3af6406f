"""huey wrappers of owners' votes."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from gongzhi.config.huey import huey


@db_periodic_task(crontab(minute="*"))
@huey.lock_task("votes-close-due")
def close_due_votes() -> int:
    from gongzhi.votes.services import votes_close_due

    return votes_close_due()
