"""huey wrappers of phone verification."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/10"))
def purge_phone_challenges() -> int:
    from gongzhi.phones.services import phone_challenges_purge

    return phone_challenges_purge()
