"""The fast path of POST requests: memoized keys, categories, addresses and routing, one
transaction for the ticket and its submission row, and changes that must still be seen at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from gongzhi.accounts.models import Role
from gongzhi.core.testing import make_user, superactor
from gongzhi.notifications.models import Notification, WebhookEndpoint
from gongzhi.open311.models import Open311Key, Open311Submission
from gongzhi.open311.services import open311_key_revoke
from gongzhi.open311.tests.conftest import Setup, form, json_of, post
from gongzhi.tickets import routing
from gongzhi.tickets.models import Category, CategoryQuestion, QuestionType, Ticket
from gongzhi.tickets.services.intake import _number


def _ok(response: Any) -> str:
    assert response.status_code == 200, response.content
    (answer,) = json_of(response)
    return str(answer["service_request_id"])


def test_a_warm_post_reads_nothing_but_the_address_and_writes_in_one_transaction(
    client: Client, setup: Setup, django_assert_max_num_queries: Any
) -> None:
    _ok(post(client, **form(setup)))
    # Memoized: the key, the category with its questions, the address, grid, levels and handlers.
    # Left: the ticket's id (PostgreSQL), three INSERTs, and the transaction (a savepoint here).
    with django_assert_max_num_queries(7) as captured:
        _ok(post(client, **form(setup, description="第二次：楼顶还在漏雨")))
    statements = [query["sql"].split()[0].upper() for query in captured.captured_queries]
    assert statements.count("UPDATE") == (0 if connection.vendor == "postgresql" else 1)
    assert not [sql for sql in captured.captured_queries if "open311_open311key" in sql["sql"]]
    assert Open311Submission.objects.count() == Ticket.objects.count() == 2


def test_the_number_is_the_day_and_the_id(client: Client, setup: Setup) -> None:
    number = _ok(post(client, **form(setup)))
    ticket = Ticket.objects.get()
    assert ticket.number == number == _number(ticket.submitted_at, ticket.pk)


def test_the_submission_row_commits_with_its_ticket(client: Client, setup: Setup) -> None:
    _ok(post(client, **form(setup)))
    submission = Open311Submission.objects.select_related("ticket").get()
    assert submission.ticket.channel == "api"
    # A retry (same body, same day) returns the first ticket and its row; nothing new is written.
    _ok(post(client, **form(setup)))
    assert Ticket.objects.count() == Open311Submission.objects.count() == 1


def test_a_revoked_key_is_refused_at_once_though_memoized(client: Client, setup: Setup) -> None:
    _ok(post(client, **form(setup)))
    open311_key_revoke(actor=superactor(), key_id=Open311Key.objects.get().pk)
    assert post(client, **form(setup, description="再报一次漏雨")).status_code == 403


def test_a_deactivated_category_is_refused_at_once_though_memoized(client: Client, setup: Setup) -> None:
    _ok(post(client, **form(setup)))
    category = Category.objects.get(code="leaky-roof")
    category.is_active = False
    category.save()
    assert post(client, **form(setup, description="再报一次漏雨")).status_code == 404


def test_a_new_required_question_is_asked_at_once(client: Client, setup: Setup) -> None:
    _ok(post(client, **form(setup)))
    CategoryQuestion.objects.create(
        category=setup.category,
        code="since",
        prompt="漏了多久？",
        datatype=QuestionType.STRING,
        required=True,
    )
    response = post(client, **form(setup, description="再报一次漏雨"))
    assert response.status_code == 400
    assert "attribute[since]" in json_of(response)[0]["description"]


def test_a_new_grid_worker_hears_the_next_ticket(client: Client, setup: Setup) -> None:
    _ok(post(client, **form(setup)))
    assert not Notification.objects.exists()  # nobody holds the grid yet
    worker = make_user(role=Role.GRID_WORKER, node=setup.tree.grid_a)
    _ok(post(client, **form(setup, description="再报一次漏雨")))
    assert list(Notification.objects.values_list("user", flat=True)) == [worker.pk]


def test_a_new_webhook_endpoint_hears_the_next_ticket(client: Client, setup: Setup) -> None:
    _ok(post(client, **form(setup)))
    endpoint = WebhookEndpoint.objects.create(
        name="hook", url="https://hooks.example.org/x", secret="s" * 32, events=[]
    )
    _ok(post(client, **form(setup, description="再报一次漏雨")))
    assert Notification.objects.filter(webhook=endpoint).count() == 1


# --- the memo itself -----------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticking(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    clock = _Clock()
    monkeypatch.setattr(routing.time, "monotonic", clock)
    return clock


def test_memoized_keeps_a_value_for_its_seconds(db: Any, ticking: _Clock) -> None:
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert routing.memoized(("t", 1), load, seconds=30) == 1
    ticking.now += 29
    assert routing.memoized(("t", 1), load, seconds=30) == 1
    ticking.now += 2
    assert routing.memoized(("t", 1), load, seconds=30) == 2


def test_a_new_generation_drops_every_value(db: Any, ticking: _Clock) -> None:
    values = iter(range(10))
    first = routing.memoized(("t", 2), lambda: next(values))
    routing.memo_invalidate()
    assert routing.memoized(("t", 2), lambda: next(values)) == first + 1


def test_a_cleared_cache_starts_a_new_generation(db: Any) -> None:
    from django.core.cache import cache

    values = iter(range(10))
    first = routing.memoized(("t", 3), lambda: next(values))
    cache.clear()  # another process bumping the generation looks the same from here
    assert routing.memoized(("t", 3), lambda: next(values)) == first + 1


def test_route_reads_no_row_when_warm(setup: Setup, django_assert_num_queries: Any) -> None:
    expected = routing._route(setup.tree.household_a1)
    routing.route(setup.tree.household_a1)
    with django_assert_num_queries(0):
        grid, levels = routing.route(setup.tree.household_b1)
        assert routing.route(setup.tree.household_a1) == expected
    assert grid == setup.tree.grid_b and levels[2] == setup.tree.community


def test_a_role_ending_today_is_keyed_by_the_day(setup: Setup) -> None:
    import time_machine

    today = dt.date(2026, 11, 25)
    worker = make_user(role=Role.GRID_WORKER, node=setup.tree.grid_a, ends_on=today)
    roles = (Role.GRID_WORKER,)
    with time_machine.travel(dt.datetime(2026, 11, 25, 4, tzinfo=dt.UTC), tick=False):
        assert routing.handlers_of(setup.tree.grid_a, roles) == [worker]
    with time_machine.travel(dt.datetime(2026, 11, 26, 4, tzinfo=dt.UTC), tick=False):
        assert routing.handlers_of(setup.tree.grid_a, roles) == []
