"""huey wrappers of the territory."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from gongzhi.config.huey import huey


@db_task()
@huey.lock_task("stats-rebuild")
def stats_rebuild_task() -> int:
    """Recompute every roll-up count (after a repair); one at a time."""
    from gongzhi.territory.services import stats_rebuild

    return stats_rebuild()
