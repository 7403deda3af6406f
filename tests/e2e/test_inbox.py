"""Browser check of the inbox: badge, unread rows, mark read; axe-core clean at 1280 and 375 px."""

from __future__ import annotations

import pytest

from gongzhi.accounts.models import Role
from gongzhi.core.testing import build_small_tree, make_user
from gongzhi.notifications.models import Notification
from gongzhi.notifications.services import notify

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_inbox_shows_unread_messages_and_marks_them_read(site) -> None:
    tree = build_small_tree()
    worker = make_user("inbox_worker", role=Role.GRID_WORKER, node=tree.grid_a)
    for n in range(3):
        notify(
            key=f"e2e:{n}",
            event_type="ticket.submitted",
            subject=f"新诉求 2026-00{n}：楼上卫生间漏水，天花板在滴水",
            body="春都华府 1号楼 101",
            url=f"/tickets/2026-00{n}/",
            users=[worker],
        )
    site.login("inbox_worker")
    site.goto("/notifications/")
    assert site.page.locator(".main-nav .party-badge").inner_text().startswith("3")
    assert site.page.locator(".inbox-item.unread").count() == 3
    site.screenshot("notifications-inbox")
    site.assert_accessible("notifications inbox")
    site.page.locator(".inbox-item.unread button").first.click()
    site.page.wait_for_load_state()
    assert site.page.locator(".inbox-item.unread").count() == 2
    assert Notification.objects.filter(read_at__isnull=False).count() == 1
