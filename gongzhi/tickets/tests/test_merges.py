"""Merging a duplicate into a ticket already resolved or closed; who hears what, and who rates.

Choice: into a resolved ticket (still in the loop: its rating may reopen it) the merge is allowed
and the duplicate's reporters hear the outcome at once; into a closed, rejected or merged ticket it
is refused with the reason, since nothing more would ever reach them. Only the survivor's own
reporter rates: one ticket, one rating."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from gongzhi.core.errors import ValidationFailed
from gongzhi.doorplates.services import doorplate_for
from gongzhi.notifications.models import Notification
from gongzhi.tickets.models import EventAction, Rating, Ticket
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import World, make_world, submit
from gongzhi.tickets.tests.test_resident_views import EN, verify_phone
from gongzhi.tickets.tests.test_views_staff import Browser, act
from gongzhi.tickets.workflow import TicketState

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
FIRST, SECOND, THIRD = "13800000001", "13800000002", "13800000003"

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield make_world()


def _resolved(world: World) -> Ticket:
    ticket = submit(world.tree, node=world.tree.building_a, reporter_phone=FIRST)
    worker = world.actor(world.worker_a)
    handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    handling.ticket_resolve(actor=worker, ticket_id=ticket.pk, note="已更换破裂的水管")
    return ticket


def _sms_to(phone: str) -> list[str]:
    return list(
        Notification.objects.filter(channel="sms", phone__in=[phone, "138****" + phone[-4:]])
        .order_by("pk")
        .values_list("subject", flat=True)
    )


def test_merged_into_a_resolved_ticket_the_reporters_hear_the_outcome_at_once(world: World) -> None:
    survivor = _resolved(world)
    earlier = submit(world.tree, node=world.tree.household_a2, reporter_phone=THIRD, description="楼道渗水")
    duplicate = submit(
        world.tree, node=world.tree.household_a1, reporter_phone=SECOND, description="楼上漏水了"
    )
    worker = world.actor(world.worker_a)
    handling.ticket_merge(actor=worker, ticket_id=earlier.pk, into_id=duplicate.pk)  # before, while open
    sent_before = {phone: len(_sms_to(phone)) for phone in (SECOND, THIRD)}

    handling.ticket_merge(actor=worker, ticket_id=duplicate.pk, into_id=survivor.pk, note="同一处漏水")

    for phone in (SECOND, THIRD):  # the duplicate's reporter, and the one merged into it earlier
        (news,) = _sms_to(phone)[sent_before[phone] :]
        assert survivor.number in news and "已更换破裂的水管" in news, news
    assert set(Ticket.objects.filter(merged_into=survivor).values_list("pk", flat=True)) == {
        duplicate.pk,
        earlier.pk,
    }
    assert Ticket.objects.get(pk=survivor.pk).state == TicketState.RESOLVED  # untouched


@pytest.mark.parametrize("end", ["closed", "rejected", "merged"])
def test_merging_into_a_ticket_out_of_the_loop_is_refused_with_the_reason(world: World, end: str) -> None:
    worker = world.actor(world.worker_a)
    target = _resolved(world) if end == "closed" else submit(world.tree, reporter_phone=FIRST)
    if end == "closed":
        handling.ticket_rate(token=target.follow_token, rating=Rating.SATISFIED)
    elif end == "rejected":
        handling.ticket_reject(actor=worker, ticket_id=target.pk, reason="不属于社区职责")
    else:
        keeper = submit(world.tree, reporter_phone=THIRD)
        handling.ticket_merge(actor=worker, ticket_id=target.pk, into_id=keeper.pk)
    duplicate = submit(world.tree, node=world.tree.household_a2, reporter_phone=SECOND)

    with pytest.raises(ValidationFailed) as refused, translation.override("en"):
        handling.ticket_merge(actor=worker, ticket_id=duplicate.pk, into_id=target.pk)

    expected = {
        "closed": "is closed: nothing more will happen on it. Handle this ticket on its own.",
        "rejected": "was rejected: it will not be handled. Handle this ticket on its own.",
        "merged": "was itself merged into",
    }[end]
    assert expected in str(refused.value.message) and target.number in str(refused.value.message)
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.merged_into) == (TicketState.SUBMITTED, None)
    assert not duplicate.events.filter(action=EventAction.MERGED).exists()


def test_staff_see_the_refusal_next_to_the_number(world: World) -> None:
    closed = _resolved(world)
    handling.ticket_rate(token=closed.follow_token, rating=Rating.SATISFIED)
    duplicate = submit(world.tree, node=world.tree.household_a2)

    response = act(Browser(world.worker_a), duplicate, "merge", into=closed.number)

    assert response.status_code == 422
    assert f"Ticket {closed.number} is closed" in response.content.decode()


def test_a_merged_reporter_follows_the_outcome_but_does_not_rate(world: World) -> None:
    survivor = _resolved(world)
    duplicate = submit(world.tree, node=world.tree.building_a, reporter_phone=SECOND, description="楼道漏水")
    handling.ticket_merge(actor=world.actor(world.worker_a), ticket_id=duplicate.pk, into_id=survivor.pk)
    client = Client(**EN)
    token = doorplate_for(world.tree.building_a).token
    verify_phone(client, token, phone=SECOND)

    page = client.get(f"/t/{duplicate.follow_token}/").content.decode()
    refused = client.post(
        f"/t/{duplicate.follow_token}/", {"rating": Rating.UNSATISFIED, "comment": "没修好"}
    )

    assert "已更换破裂的水管" in page  # the outcome
    assert 'name="rating"' not in page  # no rating form
    assert f"/d/{token}/new/help/" in page  # "tell us again": a new ticket of their own
    assert refused.status_code == 422
    with pytest.raises(ValidationFailed):
        handling.ticket_rate(token=duplicate.follow_token, rating=Rating.UNSATISFIED)
    survivor.refresh_from_db()
    assert (survivor.state, survivor.rating) == (TicketState.RESOLVED, "")
    # The survivor's own reporter still rates it; 不满意 reopens it for everyone following.
    handling.ticket_rate(token=survivor.follow_token, rating=Rating.UNSATISFIED, comment="还在漏")
    assert Ticket.objects.get(pk=survivor.pk).state == TicketState.REOPENED
