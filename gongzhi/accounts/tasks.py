"""huey wrappers of the accounts domain."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from gongzhi.config.huey import huey


# Hourly rather than at midnight: huey's crontab reads UTC and the day turns in Asia/Shanghai;
# the sync is idempotent and cheap (the building leaders' assignments only), so running it every
# hour applies a day's starts and ends within the hour after local midnight, and makes up any
# run the worker missed.
@db_periodic_task(crontab(minute="7"))
@huey.lock_task("building-leader-counts")
def sync_building_leader_counts() -> dict[str, int]:
    from dataclasses import asdict

    from gongzhi.accounts.services import building_leader_counts_sync

    return asdict(building_leader_counts_sync())
