"""Roles over time: given, ended, withdrawn; scopes and building leaders' counts follow the dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.test import Client

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.scope import resolve_actor
from gongzhi.accounts.services import building_leader_counts_sync, role_assign, role_end
from gongzhi.accounts.tasks import sync_building_leader_counts
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.testing import SmallTree, make_user, superactor
from gongzhi.territory.models import NodeStats
from gongzhi.territory.services import stats_rebuild

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH_1 = dt.date(2030, 3, 1)


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def _leaders() -> dict[int, int]:
    return dict(NodeStats.objects.filter(building_leaders__gt=0).values_list("node_id", "building_leaders"))


class _Rollback(Exception):
    pass


def _rebuilt_leaders() -> dict[int, int]:
    """What `stats_rebuild` computes from the raw tables now, without keeping its writes."""
    figures: dict[int, int] = {}
    try:
        with transaction.atomic():
            stats_rebuild()
            figures.update(_leaders())
            raise _Rollback
    except _Rollback:
        pass
    return figures


def _secretary(tree: SmallTree) -> User:
    return make_user("secretary", role=Role.COMMUNITY_SECRETARY, node=tree.community)


def test_a_building_leaders_count_follows_its_dates_as_the_clock_steps(tree: SmallTree) -> None:
    """Given ahead of its start, the role counts from its first day to its last (inclusive), as
    `stats_rebuild` would count it on each day; the hourly task applies what the day brings."""
    secretary = resolve_actor(_secretary(tree))
    leader, other = make_user("leader"), make_user("other-leader")
    with time_machine.travel(_at(MARCH_1), tick=False) as traveller:
        future = role_assign(
            actor=secretary,
            user_id=leader.pk,
            role=Role.BUILDING_LEADER,
            node_id=tree.building_a.pk,
            starts_on=MARCH_1 + dt.timedelta(days=2),
            ends_on=MARCH_1 + dt.timedelta(days=4),
        )
        role_assign(actor=secretary, user_id=other.pk, role=Role.BUILDING_LEADER, node_id=tree.building_b.pk)
        expected_by_day = {
            0: {tree.building_b.pk: 1},
            1: {tree.building_b.pk: 1},
            2: {tree.building_a.pk: 1, tree.building_b.pk: 1},  # starts
            3: {tree.building_a.pk: 1, tree.building_b.pk: 1},
            4: {tree.building_a.pk: 1, tree.building_b.pk: 1},  # its last day: still held
            5: {tree.building_b.pk: 1},  # ended
            6: {tree.building_b.pk: 1},
        }
        for offset, expected_buildings in expected_by_day.items():
            traveller.move_to(_at(MARCH_1 + dt.timedelta(days=offset), hour=0) + dt.timedelta(minutes=7))
            sync_building_leader_counts.call_local()
            assert sync_building_leader_counts.call_local() == {"counted": 0, "uncounted": 0}  # idempotent
            leaders = _leaders()
            assert {pk: leaders.get(pk, 0) for pk in expected_buildings} == expected_buildings
            assert leaders.get(tree.community.pk) == sum(expected_buildings.values())
            assert leaders.get(tree.district.pk) == sum(expected_buildings.values())
            assert leaders == _rebuilt_leaders(), offset
        future.refresh_from_db()
        assert future.counted_in_stats is False


def test_a_missed_day_is_made_up_by_the_next_run(tree: SmallTree) -> None:
    secretary = resolve_actor(_secretary(tree))
    leader = make_user("leader")
    with time_machine.travel(_at(MARCH_1), tick=False) as traveller:
        role_assign(
            actor=secretary,
            user_id=leader.pk,
            role=Role.BUILDING_LEADER,
            node_id=tree.building_a.pk,
            starts_on=MARCH_1 + dt.timedelta(days=1),
        )
        assert _leaders() == {}
        traveller.move_to(_at(MARCH_1 + dt.timedelta(days=10)))
        assert building_leader_counts_sync().counted == 1
        assert _leaders() == _rebuilt_leaders() != {}


def test_one_person_counts_once_per_building_even_with_two_recorded_periods(tree: SmallTree) -> None:
    """Rows written outside the services may overlap; the counts still follow `stats_rebuild`."""
    leader = make_user("leader")
    for starts_on in (dt.date(2020, 1, 1), dt.date(2021, 1, 1)):
        RoleAssignment.objects.create(
            user=leader, role=Role.BUILDING_LEADER, node=tree.building_a, starts_on=starts_on
        )
    building_leader_counts_sync()
    assert _leaders()[tree.building_a.pk] == 1
    assert _leaders() == _rebuilt_leaders()


def test_scopes_follow_role_dates_day_by_day(tree: SmallTree) -> None:
    worker = make_user("worker")
    RoleAssignment.objects.create(
        user=worker,
        role=Role.GRID_WORKER,
        node=tree.grid_a,
        starts_on=MARCH_1 + dt.timedelta(days=1),
        ends_on=MARCH_1 + dt.timedelta(days=2),
    )
    client = Client()
    held = {0: False, 1: True, 2: True, 3: False}
    for offset, holds in held.items():
        # One minute after local midnight and one minute before the next: the day turns in Shanghai.
        for moment in (
            _at(MARCH_1 + dt.timedelta(days=offset), 0) + dt.timedelta(minutes=1),
            _at(MARCH_1 + dt.timedelta(days=offset), 23) + dt.timedelta(minutes=59),
        ):
            with time_machine.travel(moment, tick=False):
                client.force_login(worker)  # a session made at the real date would have expired
                assert resolve_actor(worker).paths_for() == ((tree.grid_a.path,) if holds else ())
                page = client.get(f"/nodes/{tree.grid_a.pk}/")
                assert page.status_code == (200 if holds else 403), (offset, moment)
                me = client.get("/api/v1/me").json()
                assert [role["role"] for role in me["roles"]] == (["grid_worker"] if holds else [])


def test_ending_a_role_is_audited_with_its_reason_and_takes_scope_away(tree: SmallTree) -> None:
    secretary = resolve_actor(_secretary(tree))
    worker = make_user("worker", role=Role.GRID_WORKER, node=tree.grid_a)
    assignment = worker.role_assignments.get()
    with time_machine.travel(_at(MARCH_1), tick=False) as traveller:
        ended = role_end(actor=secretary, assignment_id=assignment.pk, ends_on=MARCH_1, reason="调往其他社区")
        assert ended is not None and ended.ends_on == MARCH_1
        entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, target_id=str(assignment.pk)).get()
        assert entry.reason == "调往其他社区"
        assert entry.actor_username == "secretary"
        assert entry.node_path == tree.grid_a.path
        assert entry.changes["ends_on"] == [None, "2030-03-01"]
        assert resolve_actor(worker).paths_for() == (tree.grid_a.path,)  # the last day is held
        traveller.move_to(_at(MARCH_1 + dt.timedelta(days=1)))
        assert resolve_actor(worker).paths_for() == ()


def test_ending_a_building_leader_in_the_past_uncounts_at_once(tree: SmallTree) -> None:
    secretary = resolve_actor(_secretary(tree))
    leader = make_user("leader")
    with time_machine.travel(_at(MARCH_1), tick=False):
        given = role_assign(
            actor=secretary,
            user_id=leader.pk,
            role=Role.BUILDING_LEADER,
            node_id=tree.building_a.pk,
            starts_on=dt.date(2029, 1, 1),
        )
        assert _leaders()[tree.community.pk] == 1
        role_end(
            actor=secretary, assignment_id=given.pk, ends_on=MARCH_1 - dt.timedelta(days=1), reason="搬走"
        )
        assert _leaders() == {} == _rebuilt_leaders()


def test_ending_a_role_before_it_starts_withdraws_it(tree: SmallTree) -> None:
    secretary = resolve_actor(_secretary(tree))
    leader = make_user("leader")
    with time_machine.travel(_at(MARCH_1), tick=False):
        for starts_on in (MARCH_1, MARCH_1 + dt.timedelta(days=3)):  # today, and a future one
            given = role_assign(
                actor=secretary,
                user_id=leader.pk,
                role=Role.BUILDING_LEADER,
                node_id=tree.building_a.pk,
                starts_on=starts_on,
                ends_on=starts_on,
            )
            assert (
                role_end(
                    actor=secretary,
                    assignment_id=given.pk,
                    ends_on=MARCH_1 - dt.timedelta(days=1),
                    reason="录错了",
                )
                is None
            )
            assert not RoleAssignment.objects.filter(pk=given.pk).exists()
            entry = AuditEntry.objects.filter(action=AuditAction.DELETE, target_id=str(given.pk)).get()
            assert entry.reason == "录错了"
            assert _leaders() == {} == _rebuilt_leaders()


def test_a_role_held_for_a_while_cannot_end_before_it_started(tree: SmallTree) -> None:
    secretary = resolve_actor(_secretary(tree))
    assignment = make_user(role=Role.GRID_WORKER, node=tree.grid_a).role_assignments.get()
    with pytest.raises(ValidationFailed) as refused:
        role_end(actor=secretary, assignment_id=assignment.pk, ends_on=dt.date(2019, 1, 1), reason="录错")
    assert refused.value.code == "bad_dates"
    assignment.refresh_from_db()
    assert assignment.ends_on is None


@pytest.mark.parametrize(
    ("reason", "ends_on", "code"),
    [("", dt.date(2030, 1, 1), "reason_required"), (" x ", dt.date(2030, 1, 1), "reason_required")],
)
def test_ending_a_role_needs_a_reason(tree: SmallTree, reason: str, ends_on: dt.date, code: str) -> None:
    secretary = resolve_actor(_secretary(tree))
    assignment = make_user(role=Role.GRID_WORKER, node=tree.grid_a).role_assignments.get()
    with pytest.raises(ValidationFailed) as refused:
        role_end(actor=secretary, assignment_id=assignment.pk, ends_on=ends_on, reason=reason)
    assert refused.value.code == code
    assert not AuditEntry.objects.filter(target_type="accounts.roleassignment").exists()


def test_the_same_end_date_again_is_a_clear_error(tree: SmallTree) -> None:
    secretary = resolve_actor(_secretary(tree))
    assignment = make_user(role=Role.GRID_WORKER, node=tree.grid_a, ends_on=dt.date(2031, 1, 1))
    row = assignment.role_assignments.get()
    with pytest.raises(ValidationFailed) as refused:
        role_end(actor=secretary, assignment_id=row.pk, ends_on=dt.date(2031, 1, 1), reason="重复")
    assert refused.value.code == "unchanged"


@pytest.mark.parametrize(
    ("role", "place", "error"),
    [
        (Role.GRID_WORKER, "grid_a", PermissionDenied),  # sees the role's grid, may not manage roles
        (Role.COMMUNITY_SECRETARY, "grid_b", NotFound),  # manages roles, but elsewhere
        (Role.AUDITOR, "district", PermissionDenied),
    ],
)
def test_only_those_managing_roles_there_may_end_one(
    tree: SmallTree, role: Role, place: str, error: type[Exception]
) -> None:
    actor = resolve_actor(make_user(role=role, node=getattr(tree, place)))
    assignment = make_user(role=Role.GRID_WORKER, node=tree.grid_a).role_assignments.get()
    with pytest.raises(error):
        role_end(actor=actor, assignment_id=assignment.pk, ends_on=dt.date(2030, 1, 1), reason="离职")
    assignment.refresh_from_db()
    assert assignment.ends_on is None
    assert not AuditEntry.objects.filter(target_type="accounts.roleassignment").exists()


def test_overlapping_periods_of_the_same_role_are_refused(tree: SmallTree) -> None:
    root = superactor()
    worker = make_user("worker")

    def give(role: Role, node: object, starts_on: dt.date, ends_on: dt.date | None = None) -> RoleAssignment:
        return role_assign(
            actor=root,
            user_id=worker.pk,
            role=role,
            node_id=node.pk,
            starts_on=starts_on,
            ends_on=ends_on,  # type: ignore[attr-defined]
        )

    first = give(Role.GRID_WORKER, tree.grid_a, dt.date(2030, 1, 1), dt.date(2030, 6, 30))
    with pytest.raises(ValidationFailed) as refused:
        give(Role.GRID_WORKER, tree.grid_a, dt.date(2030, 6, 1))
    assert refused.value.code == "role_overlaps"
    later = give(Role.GRID_WORKER, tree.grid_a, dt.date(2030, 7, 1))
    # Another role, or the same role elsewhere, is no overlap.
    give(Role.GRID_CHIEF, tree.grid_a, dt.date(2030, 1, 1))
    give(Role.GRID_WORKER, tree.grid_b, dt.date(2030, 1, 1))
    # Moving the first period's end past the second's start would overlap too.
    with pytest.raises(ValidationFailed):
        role_end(actor=root, assignment_id=first.pk, ends_on=dt.date(2030, 7, 15), reason="延期")
    assert RoleAssignment.objects.get(pk=first.pk).ends_on == dt.date(2030, 6, 30)
    assert later.ends_on is None


def test_nobody_but_a_superuser_gives_themselves_a_role(tree: SmallTree) -> None:
    secretary = _secretary(tree)
    with pytest.raises(ValidationFailed) as refused:
        role_assign(
            actor=resolve_actor(secretary), user_id=secretary.pk, role=Role.GRID_CHIEF, node_id=tree.grid_a.pk
        )
    assert refused.value.code == "own_role"
    assert not RoleAssignment.objects.filter(user=secretary, role=Role.GRID_CHIEF).exists()
    admin = make_user("root-of-all")
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    role_assign(actor=resolve_actor(admin), user_id=admin.pk, role=Role.AUDITOR, node_id=tree.district.pk)


@pytest.mark.parametrize("role", [Role.DISTRICT_ADMIN, Role.AUDITOR])
def test_roles_reaching_beyond_their_place_come_from_district_admins_only(
    tree: SmallTree, role: Role
) -> None:
    """A secretary managing roles on her community may not make anyone district administrator
    there (the categories of the whole installation) or auditor (the audit log); a district
    administrator may."""
    other = make_user("other")
    with pytest.raises(ValidationFailed) as refused:
        role_assign(
            actor=resolve_actor(_secretary(tree)), user_id=other.pk, role=role, node_id=tree.community.pk
        )
    assert refused.value.code == "elevated_role"
    assert not other.role_assignments.exists()
    district_admin = make_user("district", role=Role.DISTRICT_ADMIN, node=tree.district)
    role_assign(actor=resolve_actor(district_admin), user_id=other.pk, role=role, node_id=tree.community.pk)
    assert other.role_assignments.get().role == role
