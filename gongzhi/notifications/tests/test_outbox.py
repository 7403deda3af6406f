"""Writing to the outbox: one row per recipient and channel, in the transaction of the change."""

from __future__ import annotations

import pytest
from django.db import transaction

from gongzhi.accounts.models import Role
from gongzhi.core.testing import make_user
from gongzhi.notifications.models import DeliveryStatus, Notification, NotificationChannel, WebhookEndpoint
from gongzhi.notifications.services import notify
from gongzhi.territory.models import Organization, OrganizationKind
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import make_world, submit

pytestmark = pytest.mark.django_db


def test_it_queues_one_row_per_recipient_and_channel(tree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    hook = WebhookEndpoint.objects.create(name="城管", url="http://127.0.0.1:9/hook", secret="s3cret")
    created = notify(
        key="event:1",
        event_type="ticket.whistle",
        subject="吹哨",
        users=[worker, worker],
        phones=["13812345678", "13812345678", ""],
        payload={"ticket": {"number": "1"}},
    )
    assert created == 3
    rows = Notification.objects.order_by("channel")
    assert [(row.channel, row.status) for row in rows] == [
        (NotificationChannel.INBOX, DeliveryStatus.PENDING),
        (NotificationChannel.SMS, DeliveryStatus.PENDING),
        (NotificationChannel.WEBHOOK, DeliveryStatus.PENDING),
    ]
    assert rows.get(channel=NotificationChannel.WEBHOOK).webhook == hook


def test_the_same_key_twice_queues_once_and_counts_only_new_rows(tree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    other = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    assert notify(key="event:2", event_type="ticket.accepted", subject="a", users=[worker]) == 1
    assert notify(key="event:2", event_type="ticket.accepted", subject="a", users=[worker]) == 0
    # A second call that adds a recipient queues only the new one.
    assert notify(key="event:2", event_type="ticket.accepted", subject="a", users=[worker, other]) == 1
    assert Notification.objects.count() == 2


def test_a_rolled_back_change_leaves_no_outbox_row(tree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)

    class Crash(Exception):
        pass

    with pytest.raises(Crash), transaction.atomic():
        notify(
            key="event:3", event_type="ticket.accepted", subject="a", users=[worker], phones=["13812345678"]
        )
        raise Crash
    assert not Notification.objects.exists()


def test_webhooks_go_to_the_named_organizations_and_global_endpoints_only(tree) -> None:
    department = Organization.objects.create(code="d1", name="城管局", kind=OrganizationKind.DEPARTMENT)
    other = Organization.objects.create(code="d2", name="水务局", kind=OrganizationKind.DEPARTMENT)
    mine = WebhookEndpoint.objects.create(name="mine", url="http://x/", secret="a", organization=department)
    WebhookEndpoint.objects.create(name="other", url="http://x/", secret="a", organization=other)
    everyone = WebhookEndpoint.objects.create(name="all", url="http://x/", secret="a")
    WebhookEndpoint.objects.create(name="deaf", url="http://x/", secret="a", events=["ticket.closed"])
    WebhookEndpoint.objects.create(name="off", url="http://x/", secret="a", is_active=False)
    notify(key="e", event_type="ticket.whistle", subject="s", payload={}, organization_ids=[department.pk])
    assert set(Notification.objects.values_list("webhook", flat=True)) == {mine.pk, everyone.pk}


def test_no_payload_means_no_webhook(tree) -> None:
    WebhookEndpoint.objects.create(name="all", url="http://x/", secret="a")
    assert notify(key="e", event_type="ticket.accepted.resident", subject="s", phones=["13812345678"]) == 1
    assert Notification.objects.get().channel == NotificationChannel.SMS


def test_ticket_services_queue_notifications_through_notify(django_capture_on_commit_callbacks) -> None:
    world = make_world()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = submit(world.tree)
    inbox = Notification.objects.filter(channel=NotificationChannel.INBOX, user=world.worker_a)
    assert inbox.count() == 1
    # The after-commit kick delivered it (huey runs immediately in tests).
    assert inbox.get().status == DeliveryStatus.SENT
    with django_capture_on_commit_callbacks(execute=True):
        handling.ticket_accept(actor=world.actor(world.worker_a), ticket_id=ticket.pk)
    sms = Notification.objects.get(channel=NotificationChannel.SMS)
    assert sms.phone == "138****5678" and ticket.number in sms.subject  # masked once sent
    assert sms.status == DeliveryStatus.SENT  # through the development LogGateway
