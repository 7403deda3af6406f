"""The worker: claims, sends outside transactions, retries with backoff, gives up after N attempts."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
from unittest import mock

import pytest
import time_machine
from django.db import connection, connections
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.accounts.models import Role
from gongzhi.core.testing import make_user
from gongzhi.notifications import delivery
from gongzhi.notifications.delivery import backoff, deliver_pending
from gongzhi.notifications.models import DeliveryStatus, Notification, NotificationChannel, WebhookEndpoint
from gongzhi.notifications.services import notify
from gongzhi.notifications.tests.fakes import FAKE_GATEWAY, FakeGateway, webhook_receiver

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


def _sms(key: str = "e1", phone: str = "13812345678") -> Notification:
    notify(
        key=key,
        event_type="ticket.accepted.resident",
        subject="您的诉求已受理",
        url="/t/abc/",
        phones=[phone],
    )
    return Notification.objects.get(dedupe_key__startswith=f"{key}:sms:")


def test_inbox_rows_are_marked_sent(tree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    with time_machine.travel(T0, tick=False):
        notify(key="e", event_type="ticket.submitted", subject="新诉求", users=[worker])
        report = deliver_pending()
    row = Notification.objects.get()
    assert report.sent == 1
    assert (row.status, row.sent_at, row.attempts) == (DeliveryStatus.SENT, T0, 1)


def test_sms_goes_through_the_configured_gateway_with_a_public_link(tree, gateway, settings) -> None:
    settings.SITE_URL = "https://gz.example.cn"
    with time_machine.travel(T0, tick=False):
        row = _sms()
        assert deliver_pending().sent == 1
    assert gateway.sent == [("13812345678", "您的诉求已受理 https://gz.example.cn/t/abc/")]
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.sent_at == T0 and row.last_error == ""
    assert row.phone == "138****5678"  # the full number is no longer needed
    assert "13812345678" not in row.dedupe_key
    # Nothing is due any more: a second run sends nothing.
    assert deliver_pending().handled == 0
    assert len(gateway.sent) == 1


def test_a_failing_send_is_retried_with_backoff_then_dead_after_max_attempts(tree, gateway) -> None:
    gateway.failing = True
    with time_machine.travel(T0, tick=False) as traveller:
        row = _sms()
        waits = []
        for attempt in range(1, 5):
            report = deliver_pending()
            row.refresh_from_db()
            assert row.attempts == attempt
            assert "provider down" in row.last_error
            if attempt < 4:
                assert report.failed == 1 and row.status == DeliveryStatus.PENDING
                wait = row.next_attempt_at - delivery.clock.now()
                waits.append(wait)
                # Not due before the backoff has passed…
                traveller.shift(wait - dt.timedelta(seconds=1))
                assert deliver_pending().handled == 0
                traveller.shift(dt.timedelta(seconds=1))
            else:
                assert report.dead == 1
        assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=2), dt.timedelta(minutes=4)]
        assert row.status == DeliveryStatus.DEAD
        # …and a dead row is never picked again.
        traveller.shift(dt.timedelta(days=1))
        assert deliver_pending().handled == 0
    assert gateway.sent == []


def test_a_retry_that_succeeds_clears_the_error(tree, gateway) -> None:
    gateway.failing = True
    with time_machine.travel(T0, tick=False) as traveller:
        row = _sms()
        deliver_pending()
        gateway.failing = False
        traveller.shift(dt.timedelta(minutes=1))
        assert deliver_pending().sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 2, "")


def test_a_misconfigured_gateway_fails_the_attempt_instead_of_crashing_the_worker(tree, settings) -> None:
    settings.SMS_BACKEND = "gongzhi.notifications.sms.HttpGateway"
    settings.SMS_URL = ""
    row = _sms()
    assert deliver_pending().failed == 1
    row.refresh_from_db()
    assert "GONGZHI_SMS_URL" in row.last_error and row.status == DeliveryStatus.PENDING


@given(st.integers(min_value=1, max_value=60))
def test_backoff_doubles_and_is_capped(attempt: int) -> None:
    from django.conf import settings

    wait = backoff(attempt).total_seconds()
    assert settings.NOTIFY_BACKOFF_SECONDS <= wait <= settings.NOTIFY_BACKOFF_MAX_SECONDS
    if attempt > 1:
        previous = backoff(attempt - 1).total_seconds()
        assert wait == min(previous * 2, settings.NOTIFY_BACKOFF_MAX_SECONDS)


def _webhook(url: str, secret: str = "topsecret", **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(name="城管局系统", url=url, secret=secret, **fields)


def test_a_webhook_is_posted_signed_and_the_receiver_can_verify_it(tree) -> None:
    with webhook_receiver() as receiver, time_machine.travel(T0, tick=False):
        endpoint = _webhook(receiver.url)
        notify(key="e", event_type="ticket.whistle", subject="吹哨", payload={"ticket": {"number": "2026-1"}})
        assert deliver_pending().sent == 1
    row = Notification.objects.get()
    (request,) = receiver.requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["x-gongzhi-event"] == "ticket.whistle"
    assert headers["x-gongzhi-delivery"] == str(row.pk)
    assert headers["x-gongzhi-timestamp"] == str(int(T0.timestamp()))
    signed = f"{headers['x-gongzhi-timestamp']}.".encode() + request.body
    expected = hmac.new(endpoint.secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-gongzhi-signature"], expected)
    wrong = hmac.new(b"not-the-secret", signed, hashlib.sha256).hexdigest()
    assert headers["x-gongzhi-signature"] != wrong
    assert request.json() == {
        "delivery": row.pk,
        "event": "ticket.whistle",
        "created_at": T0.isoformat(),
        "subject": "吹哨",
        "data": {"ticket": {"number": "2026-1"}},
    }
    assert headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("status", [500, 404, 302])
def test_a_non_2xx_answer_is_a_failure(tree, status: int) -> None:
    with webhook_receiver() as receiver:
        receiver.status = status
        receiver.headers = {"Location": receiver.url + "/moved"}
        _webhook(receiver.url)
        notify(key="e", event_type="ticket.whistle", subject="s", payload={})
        assert deliver_pending().failed == 1
    row = Notification.objects.get()
    assert f"HTTP {status}" in row.last_error and row.status == DeliveryStatus.PENDING
    assert len(receiver.requests) == 1  # a redirect is not followed


def test_an_unreachable_receiver_is_a_failure(tree) -> None:
    with webhook_receiver() as receiver:
        url = receiver.url
    _webhook(url)  # the server is closed now: connection refused
    notify(key="e", event_type="ticket.whistle", subject="s", payload={})
    assert deliver_pending().failed == 1
    assert "unreachable" in Notification.objects.get().last_error


def test_a_disabled_endpoint_fails_its_pending_rows(tree) -> None:
    endpoint = _webhook("http://127.0.0.1:9/")
    notify(key="e", event_type="ticket.whistle", subject="s", payload={})
    endpoint.is_active = False
    endpoint.save()
    assert deliver_pending().failed == 1
    assert Notification.objects.get().last_error == "WebhookError: endpoint disabled"


def test_a_row_claimed_by_another_worker_is_not_sent_again(tree, gateway) -> None:
    """Worker B read the row as due, but worker A claimed it first: B's compare-and-set fails."""
    with time_machine.travel(T0, tick=False):
        row = _sms()
        stale = Notification.objects.get(pk=row.pk)  # B's copy, read before A's claim
        assert delivery._claim(Notification.objects.get(pk=row.pk), delivery.clock.now())  # A
        assert not delivery._claim(stale, delivery.clock.now())  # B
        # And A's lease keeps the row out of every other worker's batch until its backoff ends.
        assert deliver_pending().handled == 0
    assert gateway.sent == []


def test_a_worker_that_died_mid_send_is_retried_after_its_lease(tree, gateway) -> None:
    """Claimed, then the process died before recording: the row comes back once the lease ends
    (at-least-once: had the provider accepted it, it would be sent a second time)."""
    with time_machine.travel(T0, tick=False) as traveller:
        row = _sms()
        assert delivery._claim(row, delivery.clock.now())  # …and the worker dies here
        assert deliver_pending().handled == 0
        traveller.shift(backoff(1))
        assert deliver_pending().sent == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert len(gateway.sent) == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent writers need PostgreSQL")
def test_concurrent_deliverers_send_each_row_once(settings) -> None:
    settings.SMS_BACKEND = FAKE_GATEWAY
    FakeGateway.reset()
    phones = [f"1380000{n:04d}" for n in range(60)]
    # No after-commit kick: the rows must wait for the four racing workers.
    with mock.patch("gongzhi.notifications.services._kick_delivery"):
        notify(key="burst", event_type="ticket.accepted.resident", subject="s", phones=phones)
    assert Notification.objects.filter(status=DeliveryStatus.PENDING).count() == 60
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    handled: list[int] = []

    def work() -> None:
        try:
            barrier.wait()
            handled.append(deliver_pending().handled)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(handled) == 60
    assert sorted(phone for phone, _text in FakeGateway.sent) == phones
    assert Notification.objects.filter(status=DeliveryStatus.SENT, attempts=1).count() == 60
    FakeGateway.reset()


def test_rows_of_other_channels_are_not_touched_by_the_inbox_pass(tree, gateway) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    gateway.failing = True
    notify(key="e", event_type="t", subject="s", users=[worker], phones=["13812345678"])
    report = deliver_pending()
    assert (report.sent, report.failed) == (1, 1)
    assert Notification.objects.get(channel=NotificationChannel.INBOX).status == DeliveryStatus.SENT


def test_a_lost_kick_is_made_up_by_the_periodic_task(tree, gateway) -> None:
    """The process died right after the commit, before its after-commit kick: the row waits in the
    outbox and the next periodic run sends it."""
    from gongzhi.notifications.tasks import deliver_due_periodically

    row = _sms()  # the after-commit kick never runs inside this test's transaction
    assert row.status == DeliveryStatus.PENDING
    deliver_due_periodically()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT
    assert len(gateway.sent) == 1
