"""The staff inbox, the unread badge and the failures page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.audit.models import AuditEntry
from gongzhi.core.testing import make_user, superactor
from gongzhi.notifications.models import DeliveryStatus, Notification
from gongzhi.notifications.services import notify

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def _messages(user, count: int) -> list[Notification]:
    for n in range(count):
        with time_machine.travel(T0 + dt.timedelta(minutes=n), tick=False):
            notify(
                key=f"e{n}",
                event_type="ticket.submitted",
                subject=f"新诉求 {n}",
                url=f"/tickets/N{n}/",
                users=[user],
            )
    return list(Notification.objects.filter(user=user).order_by("-created_at"))


def test_the_inbox_lists_own_messages_newest_first_with_unread_in_bold(client, tree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    other = make_user(role=Role.GRID_WORKER, node=tree.grid_b)
    rows = _messages(worker, 3)
    notify(key="x", event_type="t", subject="别人的消息", users=[other])
    Notification.objects.filter(pk=rows[1].pk).update(read_at=T0)
    client.force_login(worker)
    response = client.get(reverse("notifications:inbox"), **EN)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("新诉求 2") < html.index("新诉求 1") < html.index("新诉求 0")
    assert "别人的消息" not in html
    assert html.count('class="inbox-item unread"') == 2
    assert 'href="/tickets/N2/"' in html
    assert "2 unread" in html


def test_the_inbox_is_paginated(client, tree, settings) -> None:
    settings.PAGE_SIZE = 2
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    _messages(worker, 3)
    client.force_login(worker)
    html = client.get(reverse("notifications:inbox") + "?page=2", **EN).content.decode()
    assert "新诉求 0" in html and "新诉求 2" not in html
    assert "Page 2 of 2" in html


def test_mark_one_read_and_all_read(client, tree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    first, *_rest = _messages(worker, 3)
    client.force_login(worker)
    response = client.post(reverse("notifications:read", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:inbox")
    first.refresh_from_db()
    assert first.read_at is not None
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    response = client.post(reverse("notifications:read_all"), {"next": "/notifications/?page=1"})
    assert response["Location"] == "/notifications/?page=1"
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_opening_marks_read_and_goes_to_the_ticket(client, tree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    row = _messages(worker, 1)[0]
    client.force_login(worker)
    response = client.post(reverse("notifications:read", args=[row.pk]), {"open": "1"})
    assert response["Location"] == "/tickets/N0/"


def test_an_offsite_next_is_ignored(client, tree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    client.force_login(worker)
    response = client.post(reverse("notifications:read_all"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notifications:inbox")


def test_marking_someone_elses_message_is_404_and_changes_nothing(client, tree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    other = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    row = _messages(other, 1)[0]
    client.force_login(worker)
    assert client.post(reverse("notifications:read", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


def test_mark_read_needs_post_and_csrf(tree) -> None:
    from django.test import Client

    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    row = _messages(worker, 1)[0]
    client = Client(enforce_csrf_checks=True)
    client.force_login(worker)
    assert client.get(reverse("notifications:read", args=[row.pk])).status_code == 405
    assert client.post(reverse("notifications:read", args=[row.pk])).status_code == 403
    row.refresh_from_db()
    assert row.read_at is None


def test_anonymous_users_are_sent_to_login(client) -> None:
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_nav_shows_the_unread_count_with_one_query(client, tree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    _messages(worker, 2)
    client.force_login(worker)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("notifications:inbox"), **EN).content.decode()
    assert '<span class="tag party-badge">2<span class="visually-hidden"> unread</span></span>' in html
    counts = [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"].upper() and "notification" in q["sql"]
    ]
    # One for the badge (shared with the heading), one for the paginator.
    assert len(counts) == 2
    Notification.objects.update(read_at=T0)
    html = client.get(reverse("notifications:inbox"), **EN).content.decode()
    assert "party-badge" not in html


def test_the_unread_count_uses_the_partial_index(tree) -> None:
    from gongzhi.accounts.scope import resolve_actor
    from gongzhi.notifications.selectors import unread_for

    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    plan = unread_for(resolve_actor(worker)).order_by().explain()
    assert "notification_unread" in plan


def _dead_sms() -> Notification:
    notify(key="dead", event_type="ticket.accepted.resident", subject="已受理", phones=["13812345678"])
    Notification.objects.update(status=DeliveryStatus.DEAD, attempts=8, last_error="SmsError: provider down")
    return Notification.objects.get()


@pytest.mark.parametrize(
    ("role", "node", "status"),
    [
        (Role.DISTRICT_ADMIN, "district", 200),
        (Role.COMMUNITY_SECRETARY, "community", 404),
        (Role.GRID_WORKER, "grid_a", 404),
    ],
)
def test_failures_are_visible_to_district_admins_only(client, tree, role, node, status) -> None:
    _dead_sms()
    client.force_login(make_user(role=role, node=getattr(tree, node)))
    response = client.get(reverse("notifications:failures"), **EN)
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "138****5678" in html and "13812345678" not in html
        assert "provider down" in html
        inbox = client.get(reverse("notifications:inbox"), **EN).content.decode()
        assert reverse("notifications:failures") in inbox


def test_superusers_see_failures_and_retry_them(client, tree) -> None:
    row = _dead_sms()
    client.force_login(superactor().user)
    assert client.get(reverse("notifications:failures"), **EN).status_code == 200
    with time_machine.travel(T0, tick=False):
        response = client.post(reverse("notifications:retry"), {"id": [str(row.pk)]}, **EN)
    assert response.status_code == 302
    row.refresh_from_db()
    # Queued again (the kick runs after commit, outside this test's transaction).
    assert (row.status, row.attempts, row.next_attempt_at) == (DeliveryStatus.PENDING, 0, T0)
    assert AuditEntry.objects.filter(target_type="notifications.notification").count() == 1


def test_a_grid_worker_cannot_retry(client, tree) -> None:
    row = _dead_sms()
    client.force_login(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    assert client.post(reverse("notifications:retry"), {"all": "1"}).status_code == 403
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DEAD


def test_retry_all_then_delivery_sends(client, tree, gateway, django_capture_on_commit_callbacks) -> None:
    _dead_sms()
    client.force_login(make_user(role=Role.DISTRICT_ADMIN, node=tree.district))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notifications:retry"), {"all": "1"})
    assert Notification.objects.get().status == DeliveryStatus.SENT
    assert gateway.sent == [("13812345678", "已受理")]
