"""The demo district: its plan at full size, a reduced build, its accounts and its refusals."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings
from django.utils import translation

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.core import personal
from gongzhi.core.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from gongzhi.core.demo.plan import DistrictPlan, demo_plan
from gongzhi.core.testing import assert_tree_is_valid
from gongzhi.insight.models import RollupMark
from gongzhi.insight.services import ROLLUP_VERSION
from gongzhi.insight.tests.recount import recount, stored
from gongzhi.people.models import PartyMember, Person, Residency
from gongzhi.territory.models import (
    Node,
    NodeKind,
    NodeStats,
    Organization,
    OrganizationKind,
    PartyLevel,
)
from gongzhi.territory.services import stats_rebuild
from gongzhi.tickets.models import TicketEvent

SCALE = 0.05  # 300 households, 750 residents; every place of the full district


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The commands print in the active language (zh-hans by default); these tests read English."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def full_plan() -> DistrictPlan:
    return demo_plan()


@pytest.fixture
def demo_mode(settings):
    settings.DEBUG = False
    settings.DEMO_MODE = True


@pytest.fixture(scope="class")
def built_demo(django_db_setup, django_db_blocker) -> Iterator[str]:
    """One reduced demo for the read-only tests of a class, rolled back after the class."""
    with django_db_blocker.unblock(), transaction.atomic(), override_settings(DEBUG=False, DEMO_MODE=True):
        yield build()
        transaction.set_rollback(True)


def build(scale: float = SCALE) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("demo", "--scale", str(scale), stdout=out)
    return out.getvalue()


def stats_snapshot() -> dict[int, tuple[int, int, int, int]]:
    return {
        row.node_id: (row.households, row.residents, row.party_members, row.building_leaders)
        for row in NodeStats.objects.all()
    }


def test_full_size_plan_has_the_districts_figures(full_plan):
    counts = full_plan.counts()
    assert (counts.subdistricts, counts.communities, counts.grids) == (3, 9, 40)
    assert (counts.buildings, counts.households, counts.residents) == (150, 6000, 15000)
    assert counts.building_leaders == 150
    assert 0.18 <= counts.aged_60_plus / counts.residents <= 0.23
    assert 0.05 <= counts.party_members / counts.adults <= 0.07
    assert 0 < counts.in_service_party_members < counts.party_members
    assert 0 < counts.party_member_households < counts.households


def test_full_size_plan_uses_the_places_of_the_reports(full_plan):
    assert [s.name for s in full_plan.subdistricts] == ["鼓楼街道", "龙桥街道", "酒仙桥街道"]
    communities = {c.name for c in full_plan.communities()}
    assert {"奎星楼社区", "长安社区", "锦绣社区", "飞龙社区", "邓家窑社区", "东关社区"} <= communities
    compounds = {c.name: c for c in full_plan.compounds()}
    assert {"春都华府", "东苑小区", "奎星苑南区", "长安西区", "山拖小区", "鼓楼花园"} <= set(compounds)
    assert compounds["鼓楼花园"].property_manager is None
    biggest = max(compounds.values(), key=lambda c: sum(1 for b in c.buildings for _ in b.households()))
    assert biggest.name == "鼓楼花园"


def test_full_size_plan_has_valid_unique_id_numbers_and_phones(full_plan):
    people = list(full_plan.people())
    id_numbers = [person.id_number for person in people]
    assert len(set(id_numbers)) == len(people)
    for person in people:
        assert personal.validate_id_number(person.id_number) == person.id_number
        assert person.id_number[:6] in {"370882", "370812"}
        assert int(person.id_number[6:10]) == person.birth_year
        assert int(person.id_number[16]) % 2 == (1 if person.gender == "male" else 0)
    phones = [person.phone for person in people if person.phone]
    assert len(set(phones)) == len(phones)
    assert all(personal.validate_phone(phone) == phone for phone in phones)


def test_full_size_plan_keeps_owner_shares_within_one_and_areas_in_range(full_plan):
    for household in full_plan.households():
        shares = [p.ownership_share for p in household.people if p.ownership_share is not None]
        assert sum(shares) <= 1
        assert all(p.relation == "owner" for p in household.people if p.ownership_share is not None)
        assert 45 <= household.floor_area <= 160


def test_plan_is_the_same_every_time():
    assert demo_plan(scale=SCALE) == demo_plan(scale=SCALE)


class TestBuiltDemo:
    """Read-only checks of one reduced build (scale 0.05)."""

    def test_it_builds_the_planned_tree(self, built_demo, db):
        plan = demo_plan(scale=SCALE)
        counts = plan.counts()
        assert f"{counts.households} households" in built_demo
        assert Node.objects.filter(kind=NodeKind.GRID).count() == 40
        assert Node.objects.filter(kind=NodeKind.BUILDING).count() == 150
        assert Node.objects.filter(kind=NodeKind.HOUSEHOLD).count() == counts.households == 300
        assert Person.objects.count() == counts.residents == 750
        assert Residency.objects.count() == counts.residents
        assert PartyMember.objects.count() == counts.party_members
        planned = {h.code: h.door_number for h in plan.households()}
        assert (
            dict(Node.objects.filter(kind=NodeKind.HOUSEHOLD).values_list("code", "door_number")) == planned
        )
        district = Node.objects.get(kind=NodeKind.DISTRICT)
        assert (district.stats.households, district.stats.residents) == (300, 750)
        assert district.stats.building_leaders == 150

    def test_the_built_tree_is_valid_and_every_kind_sits_under_an_allowed_parent(self, built_demo, db):
        assert_tree_is_valid()

    def test_every_stored_id_number_is_valid_and_encrypted(self, built_demo, db):
        for person in Person.objects.all():
            number = personal.decrypt(person.id_number_encrypted)
            assert personal.validate_id_number(number) == number
            assert number not in person.id_number_encrypted
            assert person.id_number_hash == personal.lookup_hash(number)

    def test_counts_equal_a_rebuild(self, built_demo, db):
        maintained = stats_snapshot()

        stats_rebuild()

        assert stats_snapshot() == maintained
        assert len(maintained) == Node.objects.count()

    def test_the_dashboards_roll_ups_already_hold_the_year_of_tickets(self, built_demo, db):
        # The worker has nothing left to fold: the dashboards are full from the first page.
        events = TicketEvent.objects.count()
        assert events > 1000
        assert "ticket events into the dashboards' roll-ups" in built_demo
        mark = RollupMark.objects.get()
        assert mark.last_event_id == TicketEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
        assert mark.version == ROLLUP_VERSION
        assert stored() == recount()

    def test_the_party_network_has_six_levels_attached_to_their_nodes(self, built_demo, db):
        party = Organization.objects.filter(kind=OrganizationKind.PARTY)
        levels = {level: party.filter(party_level=level) for level in PartyLevel}
        assert levels[PartyLevel.DISTRICT_COMMITTEE].get().nodes.get().kind == NodeKind.DISTRICT
        assert levels[PartyLevel.WORKING_COMMITTEE].count() == 3
        assert levels[PartyLevel.COMMITTEE].count() == 9
        assert levels[PartyLevel.GROUP].count() == 150
        grid_branches = levels[PartyLevel.BRANCH].filter(nodes__kind=NodeKind.GRID)
        compound_branches = levels[PartyLevel.BRANCH].filter(nodes__kind=NodeKind.COMPOUND)
        assert grid_branches.count() == 40
        assert compound_branches.exists()
        for group in levels[PartyLevel.GROUP].select_related("parent"):
            building = group.nodes.get()
            assert building.kind == NodeKind.BUILDING
            branch_node = group.parent.nodes.get()
            assert building.path.startswith(branch_node.path)
        for member in PartyMember.objects.select_related("organization", "person__home"):
            branch_node = member.organization.nodes.get()
            assert member.organization.party_level == PartyLevel.BRANCH
            assert member.person.home.path.startswith(branch_node.path)

    def test_building_leaders_are_residents_of_their_building(self, built_demo, db):
        leaders = RoleAssignment.objects.filter(role=Role.BUILDING_LEADER).select_related(
            "node", "user__person"
        )
        assert leaders.count() == 150
        assert len({leader.node_id for leader in leaders}) == 150
        for leader in leaders:
            assert leader.node.kind == NodeKind.BUILDING
            assert Person.objects.get(pk=leader.user.person_id).home.path.startswith(leader.node.path)
        red = leaders.filter(user__person__party_membership__isnull=False).count()
        assert red > 0

    def test_every_demo_account_exists_with_its_role_and_password(self, built_demo, db):
        for account in DEMO_ACCOUNTS:
            user = User.objects.get(username=account.username)
            assert user.check_password(DEMO_PASSWORD)
            assert user.display_name
            roles = set(user.role_assignments.values_list("role", flat=True))
            assert roles == set(account.roles)

    def test_demo_staff_work_where_the_issue_says(self, built_demo, db):
        community = Node.objects.get(kind=NodeKind.COMMUNITY, name="奎星楼社区")

        def where(username: str) -> RoleAssignment:
            return RoleAssignment.objects.filter(user__username=username).select_related(
                "node", "organization"
            )[0]

        grid_worker = where("demo-grid-worker")
        assert grid_worker.node.kind == NodeKind.GRID
        assert grid_worker.node.path.startswith(community.path)
        assert grid_worker.user.display_name == "王丽"
        assert where("demo-grid-chief").node == grid_worker.node
        assert where("demo-secretary").node == community
        assert where("demo-community-staff").node == community
        assert where("demo-subdistrict").node.name == "鼓楼街道"
        assert where("demo-district-admin").node.kind == NodeKind.DISTRICT
        assert where("demo-auditor").node.kind == NodeKind.DISTRICT
        department = where("demo-department").organization
        assert department.name == "兖州区供水公司"
        assert department.nodes.get().kind == NodeKind.DISTRICT
        assert department.categories.filter(code="water").exists()
        partner = where("demo-partner").organization
        assert partner.kind == OrganizationKind.CO_BUILDING_UNIT
        assert partner.nodes.filter(pk=community.pk).exists()
        resident = User.objects.get(username="demo-resident")
        household = where("demo-resident").node
        assert household.kind == NodeKind.HOUSEHOLD
        assert resident.person.home == household
        assert household.path.startswith(community.path)
        leader = User.objects.get(username="demo-building-leader")
        building = where("demo-building-leader").node
        assert leader.person.home.path.startswith(building.path)
        assert leader.display_name == leader.person.name


def test_two_builds_give_the_same_tree_and_people(db, demo_mode):
    def build_and_read() -> tuple[list[tuple[str, str, str]], list[tuple[str, int | None, str]]]:
        with transaction.atomic():
            build()
            nodes = list(Node.objects.order_by("path").values_list("path", "code", "name"))
            people = list(
                Person.objects.order_by("home__path", "pk").values_list("name", "birth_year", "phone")
            )
            transaction.set_rollback(True)
        return nodes, people

    first = build_and_read()
    assert Node.objects.count() == 0

    assert build_and_read() == first


def test_demo_accounts_command_lists_the_accounts_without_creating_any(db, demo_mode):
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    assert "No demo accounts" in out.getvalue()
    assert User.objects.count() == 0

    build()
    users = User.objects.count()
    out = StringIO()
    call_command("demo_accounts", stdout=out)

    text = out.getvalue()
    for account in DEMO_ACCOUNTS:
        assert account.username in text
    assert "王丽" in text
    assert "奎星楼社区" in text
    assert "兖州区供水公司" in text
    assert text.count(DEMO_PASSWORD) == 13  # one line per role; the volunteer is also a watcher
    assert User.objects.count() == users


def test_it_refuses_a_database_that_already_has_a_tree(tree, demo_mode):
    nodes, people, users = Node.objects.count(), Person.objects.count(), User.objects.count()

    with pytest.raises(CommandError, match="empty database"):
        build()

    assert (Node.objects.count(), Person.objects.count(), User.objects.count()) == (nodes, people, users)


def test_it_refuses_outside_debug_and_demo_mode(db, settings):
    settings.DEBUG = False
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="never in production"):
        build()

    assert Node.objects.count() == 0
    assert User.objects.count() == 0


def test_it_rejects_a_scale_outside_zero_to_one(db, demo_mode):
    with pytest.raises(CommandError, match="scale"):
        build(scale=1.5)
    assert Node.objects.count() == 0


def test_rebuild_stats_command_reports_the_node_count(tree):
    out = StringIO()
    call_command("rebuild_stats", stdout=out)
    assert f"{Node.objects.count()} nodes" in out.getvalue()
