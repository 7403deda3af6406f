"""Write the planned demo district to the database, in bulk, in one transaction."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.demo import data
from gongzhi.core.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from gongzhi.core.demo.deliberation import demo_deliberation_write
from gongzhi.core.demo.plan import (
    AreaPlan,
    CompoundPlan,
    DistrictPlan,
    PersonPlan,
    PlanCounts,
    demo_plan,
)
from gongzhi.core.demo.tickets import TICKETS_PER_YEAR, demo_tickets_write
from gongzhi.core.errors import ApplicationError
from gongzhi.people.models import PartyMember, Person, Residency, Tag
from gongzhi.people.services import PersonData, person_prepare
from gongzhi.territory.models import (
    MatterCategory,
    Node,
    NodeKind,
    Organization,
    OrganizationKind,
    PartyLevel,
)
from gongzhi.territory.services import ensure_child_kind, stats_rebuild

# Roles and memberships of the demo start on a fixed day, so they are active whenever it is built.
ROLES_START = dt.date(data.REFERENCE_YEAR, 1, 1)


class DemoRefused(ApplicationError):
    code = "demo_refused"


@dataclass(frozen=True)
class DemoSummary:
    counts: PlanCounts
    nodes: int
    organizations: int
    users: int
    seconds: float
    tickets: int = 0


def demo_allowed() -> bool:
    """The demo (and its well-known password) exists only in debug or explicit demo mode."""
    return bool(settings.DEBUG or getattr(settings, "DEMO_MODE", False))


def demo_build(*, scale: float = 1.0, tickets: int | None = None) -> DemoSummary:
    """Build the demo district 兖州区 on an empty database; refuse anywhere else.
    `tickets`: how many tickets of the past year (default 100,000 × scale)."""
    if not demo_allowed():
        raise DemoRefused(
            _("The demo district is built only with GONGZHI_DEBUG=1 or GONGZHI_DEMO=1, never in production.")
        )
    started = time.perf_counter()
    with transaction.atomic():
        if Node.objects.exists():
            raise DemoRefused(
                _("The database already holds a territory tree: the demo is built only on an empty database.")
            )
        plan = demo_plan(scale=scale)
        writer = _Writer(plan)
        writer.write()
        ticket_counts = demo_tickets_write(
            plan=plan,
            nodes=writer.nodes,
            organizations=writer.organizations,
            count=round(TICKETS_PER_YEAR * scale) if tickets is None else tickets,
            now=clock.now(),
        )
        demo_deliberation_write(
            plan=plan, nodes=writer.nodes, organizations=writer.organizations, now=clock.now()
        )
        nodes = stats_rebuild()
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            target=writer.district,
            node_path=writer.district.path,
            reason="demo",
            changes={"demo": asdict(plan.counts()), "scale": scale, "tickets": asdict(ticket_counts)},
        )
    return DemoSummary(
        counts=plan.counts(),
        nodes=nodes,
        organizations=Organization.objects.count(),
        users=User.objects.count(),
        seconds=time.perf_counter() - started,
        tickets=ticket_counts.tickets,
    )


def _area_attributes(area: AreaPlan) -> dict[str, Any]:
    return {"latitude": area.latitude, "longitude": area.longitude, "boundary": area.boundary}


class _Writer:
    """Writes a plan with bulk inserts: organizations, the tree, the party network, people, users."""

    def __init__(self, plan: DistrictPlan) -> None:
        self.plan = plan
        self.nodes: dict[str, Node] = {}
        self.organizations: dict[str, Organization] = {}
        self.branch_of_building: dict[str, Organization] = {}
        self.person_ids: dict[int, int] = {}  # id(PersonPlan) -> Person.pk

    def write(self) -> None:
        self._service_organizations()
        self._territory()
        self._party_network()
        self._organizations_serve_nodes()
        self._people()
        self._building_leaders()
        self._demo_accounts()

    @property
    def district(self) -> Node:
        return self.nodes[self.plan.code]

    # Organizations that exist before the tree (property managers are referenced by compounds).
    def _service_organizations(self) -> None:
        categories = {
            code: MatterCategory.objects.get_or_create(code=code, defaults={"name": name})[0]
            for code, name in data.MATTER_CATEGORIES
        }
        organizations = [
            Organization(code=f"PM-{code}", name=name, kind=OrganizationKind.PROPERTY_MANAGER)
            for code, name in data.PROPERTY_MANAGERS.items()
        ]
        organizations += [
            Organization(code=f"D-{code}", name=name, kind=OrganizationKind.DEPARTMENT)
            for code, name, _ in data.DEPARTMENTS
        ]
        organizations += [
            Organization(code=f"U-{code}", name=name, kind=OrganizationKind.CO_BUILDING_UNIT)
            for code, name, _ in data.CO_BUILDING_UNITS
        ]
        organizations += [
            Organization(code=f"S-{code}", name=name, kind=kind) for code, name, kind, _ in data.PARTNERS
        ]
        self._create_organizations(organizations)
        through = Organization.categories.through
        through.objects.bulk_create(
            through(organization_id=self.organizations[f"D-{code}"].pk, mattercategory_id=categories[c].pk)
            for code, _, codes in data.DEPARTMENTS
            for c in codes
        )

    def _create_organizations(self, organizations: list[Organization]) -> None:
        created = Organization.objects.bulk_create(organizations)
        if created and created[0].pk is None:  # backends without RETURNING ids
            created = list(Organization.objects.filter(code__in=[o.code for o in organizations]))
        self.organizations.update((organization.code, organization) for organization in created)

    # The territory tree. The database is empty, so every path is known in advance: the nodes are
    # laid out in memory (treebeard's materialized paths) and inserted in one bulk insert, where
    # one `nodes_bulk_add` per parent (about 700 of them) took 15 s. Counts come from
    # `stats_rebuild` at the end; the tests check paths, depths and numchild of every node.
    def _node(self, parent: Node | None, kind: str, code: str, name: str, **attributes: Any) -> Node:
        ensure_child_kind(parent, kind)
        if parent is None:
            path, depth = Node._get_path("", 1, 1), 1
        else:
            parent.numchild += 1
            path, depth = Node._get_path(parent.path, parent.depth + 1, parent.numchild), parent.depth + 1
        node = Node(path=path, depth=depth, numchild=0, kind=kind, code=code, name=name, **attributes)
        self.nodes[code] = node
        return node

    def _territory(self) -> None:
        plan = self.plan
        district = self._node(None, NodeKind.DISTRICT, plan.code, plan.name, **_area_attributes(plan))
        for subdistrict in plan.subdistricts:
            sub_node = self._node(
                district,
                NodeKind.SUBDISTRICT,
                subdistrict.code,
                subdistrict.name,
                **_area_attributes(subdistrict),
            )
            for community in subdistrict.communities:
                community_node = self._node(
                    sub_node,
                    NodeKind.COMMUNITY,
                    community.code,
                    community.name,
                    **_area_attributes(community),
                )
                for grid in community.grids:
                    grid_node = self._node(
                        community_node, NodeKind.GRID, grid.code, grid.name, **_area_attributes(grid)
                    )
                    for compound in grid.compounds:
                        self._compound(grid_node, compound)
        nodes = list(self.nodes.values())
        created = Node.objects.bulk_create(nodes, batch_size=2000)
        if created and created[0].pk is None:  # backends without RETURNING ids
            ids = dict(Node.objects.values_list("code", "pk"))
            for node in created:
                node.pk = ids[node.code]

    def _compound(self, grid_node: Node, compound: CompoundPlan) -> None:
        parent = grid_node
        if not compound.loose:
            manager = (
                self.organizations[f"PM-{compound.property_manager}"] if compound.property_manager else None
            )
            parent = self._node(
                grid_node,
                NodeKind.COMPOUND,
                compound.code,
                compound.name,
                year_built=compound.year_built,
                heating=compound.heating,
                property_manager=manager,
                latitude=compound.latitude,
                longitude=compound.longitude,
            )
        for building in compound.buildings:
            building_node = self._node(
                parent,
                NodeKind.BUILDING,
                building.code,
                building.name,
                floors=building.floors,
                latitude=building.latitude,
                longitude=building.longitude,
            )
            for entrance in building.entrances:
                entrance_node = self._node(building_node, NodeKind.ENTRANCE, entrance.code, entrance.name)
                for household in entrance.households:
                    self._node(
                        entrance_node,
                        NodeKind.HOUSEHOLD,
                        household.code,
                        household.door_number,
                        door_number=household.door_number,
                        floor_area=household.floor_area,
                        is_party_member_household=household.is_party_member_household,
                    )

    # The six-level party network: 区委 → 街道党工委 → 社区党委 → 网格党支部 → 小区党支部 → 楼栋党小组.
    def _party_network(self) -> None:
        plan = self.plan
        self._party_level([(plan, "中共兖州区委", PartyLevel.DISTRICT_COMMITTEE, None)])
        self._party_level(
            [(s, f"{s.name}党工委", PartyLevel.WORKING_COMMITTEE, plan.code) for s in plan.subdistricts]
        )
        self._party_level(
            [
                (c, f"{c.name}党委", PartyLevel.COMMITTEE, s.code)
                for s in plan.subdistricts
                for c in s.communities
            ]
        )
        self._party_level(
            [
                (g, f"{c.name}{g.name}党支部", PartyLevel.BRANCH, c.code)
                for c in plan.communities()
                for g in c.grids
            ]
        )
        self._party_level(
            [
                (k, f"{k.name}党支部", PartyLevel.BRANCH, g.code)
                for g in plan.grids()
                for k in g.compounds
                if k.has_branch
            ]
        )
        groups = []
        for grid in plan.grids():
            for compound in grid.compounds:
                branch_code = compound.code if compound.has_branch else grid.code
                for building in compound.buildings:
                    self.branch_of_building[building.code] = self.organizations[f"P-{branch_code}"]
                    name = (
                        f"{building.name}党小组"
                        if compound.loose
                        else f"{compound.name}{building.name}党小组"
                    )
                    groups.append((building, name, PartyLevel.GROUP, branch_code))
        self._party_level(groups)

    def _party_level(self, items: Iterable[tuple[Any, str, PartyLevel, str | None]]) -> None:
        """Party organizations of one level, each attached to its node (`code` of the plan item)."""
        items = list(items)
        self._create_organizations(
            [
                Organization(
                    code=f"P-{place.code}",
                    name=name,
                    kind=OrganizationKind.PARTY,
                    party_level=level,
                    parent=self.organizations[f"P-{parent}"] if parent else None,
                )
                for place, name, level, parent in items
            ]
        )
        self._serve([(f"P-{place.code}", place.code) for place, _, _, _ in items])

    def _serve(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Attach organizations to the nodes they serve: (organization code, node code) pairs."""
        through = Organization.nodes.through
        through.objects.bulk_create(
            [
                through(organization_id=self.organizations[org].pk, node_id=self.nodes[node].pk)
                for org, node in pairs
            ],
            batch_size=2000,
        )

    def _organizations_serve_nodes(self) -> None:
        plan = self.plan
        communities = list(plan.communities())
        self._create_organizations(
            [
                Organization(
                    code=f"RC-{c.code}", name=f"{c.name}居民委员会", kind=OrganizationKind.RESIDENTS_COMMITTEE
                )
                for c in communities
            ]
            + [
                Organization(
                    code=f"OC-{k.code}", name=f"{k.name}业主委员会", kind=OrganizationKind.OWNERS_COMMITTEE
                )
                for k in plan.compounds()
                if k.property_manager
            ]
        )
        pairs = [(f"RC-{c.code}", c.code) for c in communities]
        for compound in plan.compounds():
            if compound.property_manager:
                pairs += [
                    (f"OC-{compound.code}", compound.code),
                    (f"PM-{compound.property_manager}", compound.code),
                ]
        pairs += [(f"D-{code}", plan.code) for code, _, _ in data.DEPARTMENTS]
        pairs += [
            (f"U-{code}", communities[i].code) for code, _, served in data.CO_BUILDING_UNITS for i in served
        ]
        pairs += [(f"S-{code}", communities[i].code) for code, _, _, served in data.PARTNERS for i in served]
        self._serve(pairs)

    # People: residents, their ties to households, tags and party membership.
    def _people(self) -> None:
        rows: list[tuple[PersonPlan, str, Person]] = []
        for building in self.plan.buildings():
            for household in building.households():
                home = self.nodes[household.code]
                for person in household.people:
                    values = person_prepare(
                        PersonData(
                            name=person.name,
                            phone=person.phone,
                            id_number=person.id_number,
                            gender=person.gender,
                            birth_year=person.birth_year,
                        )
                    )
                    rows.append((person, building.code, Person(home=home, **values)))
        created = Person.objects.bulk_create([row[2] for row in rows], batch_size=1000)
        if created and created[0].pk is None:  # backends without RETURNING ids: match by ID hash
            ids = dict(Person.objects.values_list("id_number_hash", "pk"))
            for person in created:
                person.pk = ids[person.id_number_hash]
        self.person_ids = {id(plan): person.pk for (plan, _, _), person in zip(rows, created, strict=True)}
        Residency.objects.bulk_create(
            [
                Residency(
                    person_id=person.pk,
                    household_id=person.home_id,
                    relation=plan.relation,
                    ownership_share=plan.ownership_share,
                )
                for (plan, _, _), person in zip(rows, created, strict=True)
            ],
            batch_size=2000,
        )
        tag_ids = dict(Tag.objects.values_list("code", "pk"))
        through = Person.tags.through
        through.objects.bulk_create(
            [
                through(person_id=person.pk, tag_id=tag_ids[tag])
                for (plan, _, _), person in zip(rows, created, strict=True)
                for tag in plan.tags
            ],
            batch_size=2000,
        )
        PartyMember.objects.bulk_create(
            [
                PartyMember(
                    person_id=person.pk,
                    organization=self.branch_of_building[building_code],
                    employer=self.organizations[f"U-{plan.party.employer}"] if plan.party.employer else None,
                    joined_year=plan.party.joined_year,
                )
                for (plan, building_code, _), person in zip(rows, created, strict=True)
                if plan.party
            ],
            batch_size=2000,
        )

    # Users: a building leader (楼栋长) per building, and the demo accounts.
    def _building_leaders(self) -> None:
        leaders = [
            (building, building.leader)
            for building in self.plan.buildings()
            if building.leader and building is not self.plan.key_building  # that one is demo-building-leader
        ]
        users = User.objects.bulk_create(
            [
                User(
                    username=f"leader-{number:03d}",
                    display_name=leader.name,
                    person_id=self.person_ids[id(leader)],
                    password=make_password(None),
                )
                for number, (_, leader) in enumerate(leaders, start=1)
            ]
        )
        if users and users[0].pk is None:
            by_name = dict(User.objects.filter(username__startswith="leader-").values_list("username", "pk"))
            for user in users:
                user.pk = by_name[user.username]
        RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(
                    user_id=user.pk,
                    role=Role.BUILDING_LEADER,
                    node=self.nodes[building.code],
                    starts_on=ROLES_START,
                )
                for user, (building, _) in zip(users, leaders, strict=True)
            ]
        )

    def _demo_accounts(self) -> None:
        plan = self.plan
        household, resident = plan.key_resident
        people = {"household": resident, "building": plan.key_building.leader}
        nodes = {
            "district": plan.code,
            "subdistrict": plan.key_subdistrict.code,
            "community": plan.key_community.code,
            "grid": plan.key_grid.code,
            "building": plan.key_building.code,
            "household": household.code,
        }
        organizations = {"department": f"D-{data.WATER_DEPARTMENT}", "partner": f"U-{data.PARTNER_UNIT}"}
        password = make_password(DEMO_PASSWORD)  # hashed once: hashing is deliberately slow
        for account in DEMO_ACCOUNTS:
            person = people.get(account.place)
            user = User.objects.create(
                username=account.username,
                display_name=account.display_name or (person.name if person else account.username),
                person_id=self.person_ids[id(person)] if person else None,
                password=password,
            )
            for role in account.roles:
                RoleAssignment.objects.create(
                    user=user,
                    role=role,
                    node=self.nodes[nodes[account.place]] if account.place in nodes else None,
                    organization=self.organizations.get(organizations.get(account.place, "")),
                    starts_on=ROLES_START,
                )
