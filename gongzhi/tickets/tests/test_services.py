"""Intake and handling through the services: routing, scope, the state machine, whistles, ratings."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.notifications.models import Notification
from gongzhi.tickets.models import EventAction, Ticket, TicketEvent, TicketPhoto
from gongzhi.tickets.selectors import ticket_actions_for, ticket_list
from gongzhi.tickets.services import handling
from gongzhi.tickets.services.intake import TicketInput, ticket_submit
from gongzhi.tickets.tests.factories import World, make_category, make_world, submit
from gongzhi.tickets.workflow import IllegalTransition, Level, TicketAction, TicketState

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Shanghai

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world() -> World:
    return make_world()


def states(ticket: Ticket) -> list[tuple[str, str, str]]:
    return list(ticket.events.order_by("at", "pk").values_list("action", "from_state", "to_state"))


def test_a_ticket_goes_to_the_grid_of_its_address_with_its_deadlines(world: World) -> None:
    ticket = submit(world.tree, answers={"floor": "5"})
    assert ticket.grid == world.tree.grid_a
    assert (ticket.level, ticket.owner_node) == (Level.GRID, world.tree.grid_a)
    assert ticket.state == TicketState.SUBMITTED
    assert ticket.response_due_at == NOW + dt.timedelta(minutes=60)
    assert ticket.resolution_due_at == NOW + dt.timedelta(hours=24)
    assert ticket.answers == {"floor": "5"}
    assert Ticket.objects.get(pk=ticket.pk).number == f"20261124{ticket.pk:07d}"
    assert states(ticket) == [(EventAction.SUBMITTED, "", TicketState.SUBMITTED)]
    inbox = Notification.objects.filter(channel="inbox").values_list("user__username", flat=True)
    assert list(inbox) == ["worker_a"]


def test_a_category_handled_by_the_community_starts_there(world: World) -> None:
    make_category("test-parking", name="停车", default_level=Level.COMMUNITY)
    ticket = submit(world.tree, category="test-parking")
    assert (ticket.level, ticket.owner_node) == (Level.COMMUNITY, world.tree.community)


def test_the_same_submit_key_makes_one_ticket(world: World) -> None:
    first = submit(world.tree, submit_key="k-1")
    second = submit(world.tree, submit_key="k-1")
    assert first.pk == second.pk
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"description": "漏"}, "description"),
        ({"reporter_phone": "12345"}, "phone"),
        ({"category": "nope"}, "category"),
        ({"channel": "doorstep"}, "channel"),  # only staff take tickets on the doorstep
    ],
)
def test_bad_input_is_refused_field_by_field_and_saves_nothing(
    world: World, fields: dict, error_field: str
) -> None:
    with pytest.raises(ValidationFailed) as error:
        submit(world.tree, **fields)
    assert error_field in error.value.extra["fields"]
    assert Ticket.objects.count() == 0


def test_a_required_question_must_be_answered(world: World) -> None:
    world.category.questions.update(required=True)
    with pytest.raises(ValidationFailed) as error:
        submit(world.tree)
    assert "floor" in error.value.extra["fields"]
    with pytest.raises(ValidationFailed):
        submit(world.tree, answers={"floor": "five"})


def test_staff_enter_doorstep_tickets_only_in_their_scope(world: World) -> None:
    data = TicketInput(
        node_id=world.tree.household_b1.pk,
        category_code="leak",
        description="门口积水严重",
        channel="doorstep",
    )
    with pytest.raises(NotFound):
        ticket_submit(actor=world.actor(world.worker_a), data=data)
    ticket = ticket_submit(actor=world.actor(world.worker_b), data=data)
    assert ticket.entered_by == world.worker_b and ticket.reporter_user is None


def test_a_grid_worker_cannot_see_or_touch_another_grids_ticket(world: World) -> None:
    ticket = submit(world.tree, node=world.tree.household_b1)
    outsider = world.actor(world.worker_a)
    assert not ticket_list(actor=outsider).exists()
    for action in (handling.ticket_accept, handling.ticket_start):
        with pytest.raises(NotFound):
            action(actor=outsider, ticket_id=ticket.pk)
    with pytest.raises(NotFound):
        handling.ticket_reject(actor=outsider, ticket_id=ticket.pk, reason="不归我们管")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.SUBMITTED and ticket.version == 1


def test_the_whole_loop_satisfied(world: World, frozen) -> None:
    ticket = submit(world.tree)
    worker = world.actor(world.worker_a)
    assert ticket_actions_for(actor=worker, ticket=ticket) == [
        TicketAction.ACCEPT,
        TicketAction.REJECT,
        TicketAction.MERGE,
    ]
    handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    handling.ticket_start(actor=worker, ticket_id=ticket.pk)
    frozen.shift(dt.timedelta(hours=3))
    handling.ticket_resolve(actor=worker, ticket_id=ticket.pk, note="已联系物业更换水管")
    handling.ticket_rate(token=ticket.follow_token, rating="satisfied", comment="谢谢")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.CLOSED
    assert ticket.assignee == world.worker_a
    assert ticket.responded_at == NOW
    assert ticket.resolved_at == NOW + dt.timedelta(hours=3)
    assert ticket.rating == "satisfied"
    assert [s[0] for s in states(ticket)] == [
        "submitted",
        "accepted",
        "started",
        "resolved",
        "rated",
        "closed",
    ]
    sms = Notification.objects.filter(channel="sms").values_list("subject", flat=True)
    assert len(sms) == 2  # accepted, resolved


def test_illegal_transitions_are_clear_errors_and_change_nothing(world: World) -> None:
    ticket = submit(world.tree)
    worker = world.actor(world.worker_a)
    with pytest.raises(IllegalTransition):
        handling.ticket_resolve(actor=worker, ticket_id=ticket.pk, note="done")
    handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    with pytest.raises(IllegalTransition):
        handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    with pytest.raises(ValidationFailed):
        handling.ticket_rate(token=ticket.follow_token, rating="satisfied")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.ACCEPTED and ticket.version == 2


def test_rejecting_needs_a_reason(world: World) -> None:
    ticket = submit(world.tree)
    worker = world.actor(world.worker_a)
    with pytest.raises(ValidationFailed):
        handling.ticket_reject(actor=worker, ticket_id=ticket.pk, reason="  ")
    handling.ticket_reject(actor=worker, ticket_id=ticket.pk, reason="属于私人纠纷，建议走调解")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.REJECTED and ticket.rejection_reason


def test_unsatisfied_reopens_one_level_up_where_the_grid_can_no_longer_act(world: World) -> None:
    ticket = submit(world.tree)
    worker = world.actor(world.worker_a)
    handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    handling.ticket_resolve(actor=worker, ticket_id=ticket.pk, note="已处理")
    handling.ticket_rate(token=ticket.follow_token, rating="unsatisfied", comment="还在漏")
    ticket.refresh_from_db()
    assert (ticket.state, ticket.level, ticket.owner_node) == (
        TicketState.REOPENED,
        Level.COMMUNITY,
        world.tree.community,
    )
    assert ticket.reopen_count == 1 and ticket.assignee is None
    assert ticket_actions_for(actor=worker, ticket=ticket) == []
    with pytest.raises(PermissionDenied):
        handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    handling.ticket_accept(actor=world.actor(world.community_staff), ticket_id=ticket.pk)


def test_whistle_report_in_act_and_confirm_resolves(world: World) -> None:
    ticket = submit(world.tree)
    staff = world.actor(world.community_staff)
    handler = world.actor(world.handler)
    handling.ticket_accept(actor=staff, ticket_id=ticket.pk)
    # The department sees nothing before it is summoned.
    assert not ticket_list(actor=handler).exists()
    whistle = handling.ticket_whistle(
        actor=staff,
        ticket_id=ticket.pk,
        department_ids=[world.department.pk],
        note="占道堆放建材，请城管到场",
    )
    assert list(ticket_list(actor=handler)) == [ticket]
    summons = whistle.summonses.get()
    assert summons.due_at == NOW + dt.timedelta(minutes=120)
    with pytest.raises(ValidationFailed):
        handling.ticket_resolve(actor=staff, ticket_id=ticket.pk, note="done")
    with pytest.raises(ValidationFailed):
        handling.whistle_confirm(actor=staff, whistle_id=whistle.pk, note="ok")
    with pytest.raises(ValidationFailed):
        handling.summons_record_action(actor=handler, summons_id=summons.pk, note="清理")
    handling.summons_report_in(actor=handler, summons_id=summons.pk)
    with pytest.raises(ValidationFailed):
        handling.summons_report_in(actor=handler, summons_id=summons.pk)
    handling.summons_record_action(actor=handler, summons_id=summons.pk, note="已清理占道建材")
    # Another grid's worker cannot confirm; the handler cannot either.
    with pytest.raises((NotFound, PermissionDenied)):
        handling.whistle_confirm(actor=world.actor(world.worker_b), whistle_id=whistle.pk, note="ok")
    handling.whistle_confirm(actor=staff, whistle_id=whistle.pk, note="现场确认已清理")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED
    actions = [s[0] for s in states(ticket)]
    assert actions == [
        "submitted",
        "accepted",
        "whistled",
        "reported_in",
        "department_acted",
        "confirmed",
        "resolved",
    ]


def test_a_confirmation_s_photos_go_with_the_step_until_the_last_whistle_resolves(
    world: World, settings: object, tmp_path: object
) -> None:
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    def jpeg(name: str) -> ContentFile[bytes]:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 6)).save(buffer, format="JPEG")
        return ContentFile(buffer.getvalue(), name=name)

    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    ticket = submit(world.tree)
    staff, handler = world.actor(world.community_staff), world.actor(world.handler)
    handling.ticket_accept(actor=staff, ticket_id=ticket.pk)
    whistles = [
        handling.ticket_whistle(
            actor=staff, ticket_id=ticket.pk, department_ids=[world.department.pk], note=f"第{n}次吹哨"
        )
        for n in (1, 2)
    ]
    for whistle in whistles:
        summons = whistle.summonses.get()
        handling.summons_report_in(actor=handler, summons_id=summons.pk)
        handling.summons_record_action(actor=handler, summons_id=summons.pk, note="已处置")

    handling.whistle_confirm(
        actor=staff, whistle_id=whistles[0].pk, note="第一处已复核", photos=[jpeg("a.jpg")]
    )
    handling.whistle_confirm(actor=staff, whistle_id=whistles[1].pk, note="全部复核", photos=[jpeg("b.jpg")])

    photos = TicketPhoto.objects.order_by("pk").values_list("event__action", "event__note")
    assert list(photos) == [("confirmed", "第一处已复核"), ("resolved", "全部复核")]
    assert Ticket.objects.get(pk=ticket.pk).state == TicketState.RESOLVED


def test_only_the_summoned_department_reports_in(world: World) -> None:
    from gongzhi.accounts.models import Role
    from gongzhi.core.testing import make_user
    from gongzhi.tickets.tests.factories import make_department

    other = make_department("住建局", "dept-zj")
    stranger = world.actor(make_user("stranger", role=Role.DEPARTMENT_HANDLER, organization=other))
    ticket = submit(world.tree)
    staff = world.actor(world.community_staff)
    handling.ticket_accept(actor=staff, ticket_id=ticket.pk)
    whistle = handling.ticket_whistle(
        actor=staff, ticket_id=ticket.pk, department_ids=[world.department.pk], note="请到场"
    )
    with pytest.raises(NotFound):
        handling.summons_report_in(actor=stranger, summons_id=whistle.summonses.get().pk)
    assert not ticket_list(actor=stranger).exists()


def test_merging_makes_the_duplicate_follow_the_survivor(world: World) -> None:
    survivor = submit(world.tree, reporter_phone="13800000001")
    duplicate = submit(world.tree, node=world.tree.household_a2, reporter_phone="13800000002")
    worker = world.actor(world.worker_a)
    handling.ticket_merge(actor=worker, ticket_id=duplicate.pk, into_id=survivor.pk, note="同一处漏水")
    duplicate.refresh_from_db()
    assert duplicate.state == TicketState.MERGED and duplicate.merged_into == survivor
    with pytest.raises(IllegalTransition):
        handling.ticket_accept(actor=worker, ticket_id=duplicate.pk)
    with pytest.raises(ValidationFailed):
        handling.ticket_merge(actor=worker, ticket_id=survivor.pk, into_id=duplicate.pk)
    handling.ticket_accept(actor=worker, ticket_id=survivor.pk)
    handling.ticket_resolve(actor=worker, ticket_id=survivor.pk, note="已维修")
    resolved = survivor.events.get(action=EventAction.RESOLVED)
    phones = Notification.objects.filter(
        channel="sms", dedupe_key__startswith=f"ticket-event:{resolved.pk}:resident"
    )
    assert sorted(phones.values_list("phone", flat=True)) == ["13800000001", "13800000002"]


def test_a_lost_race_is_a_conflict_not_a_second_owner(world: World) -> None:
    ticket = submit(world.tree)
    stale = Ticket.objects.get(pk=ticket.pk)
    handling.ticket_accept(actor=world.actor(world.worker_a), ticket_id=ticket.pk)
    with pytest.raises(handling.Conflict):
        handling._save(stale, state=TicketState.ACCEPTED)
    assert TicketEvent.objects.filter(ticket=ticket, action="accepted").count() == 1


def test_accept_and_resolve_events_record_the_deadline_in_force(world: World, frozen) -> None:
    ticket = submit(world.tree)
    worker = world.actor(world.worker_a)
    frozen.shift(dt.timedelta(minutes=61))
    handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    handling.ticket_resolve(actor=worker, ticket_id=ticket.pk, note="已处理")
    accepted = ticket.events.get(action=EventAction.ACCEPTED).data
    resolved = ticket.events.get(action=EventAction.RESOLVED).data
    assert accepted == {"due": (NOW + dt.timedelta(minutes=60)).isoformat(), "on_time": False}
    assert resolved == {"due": (NOW + dt.timedelta(hours=24)).isoformat(), "on_time": True}


def test_moving_a_node_drops_the_memoized_routes(world: World) -> None:
    from gongzhi.core.testing import superactor
    from gongzhi.territory.services import node_move
    from gongzhi.tickets import routing

    submit(world.tree, submit_key="warm")  # fills the routing memo
    assert ("routing-nodes",) in routing._memo
    # A move rewrites paths in bulk, without post_save: the memo must still be dropped.
    node_move(actor=superactor(), node_id=world.tree.building_a.pk, new_parent_id=world.tree.grid_b.pk)
    assert ("routing-nodes",) not in routing._memo
    moved = submit(world.tree, submit_key="after-move")
    assert moved.grid == world.tree.grid_b
