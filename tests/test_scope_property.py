"""Scope, as a property: random trees, random people and random role assignments.

For every actor, what it can read is EXACTLY the union of the subtrees of its active grants,
computed here independently of materialized paths by walking the generated parent links:
- `Node.objects.visible_to(actor)` (VIEW_NETWORK grants),
- `person_search` (VIEW_PEOPLE grants: people whose home lies in those subtrees),
- `GET /api/v1/nodes/{id}`, `/nodes/{id}/children`, `/people` and `/people/{id}` (bearer token
  or session),
- the staff web's node page `/nodes/<id>/`, people search `/people/` and person page `/people/<id>/`.

Every page and endpoint is asked about a sample (the first in and out of scope, plus a few drawn
at random; everything for the explicit example) to keep the test quick enough for CI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.permissions import ROLE_PERMISSIONS, STAFF_ROLES, Perm
from gongzhi.accounts.scope import resolve_actor
from gongzhi.accounts.services import api_token_issue
from gongzhi.core import clock
from gongzhi.core.testing import superactor
from gongzhi.people.selectors import person_search
from gongzhi.people.services import PersonData, person_create
from gongzhi.territory.models import CHILD_KINDS, Node, NodeKind, Organization, OrganizationKind
from gongzhi.territory.services import NodeSpec, node_create, nodes_bulk_add

# When a generated assignment holds, relative to today: (starts_on, ends_on) offsets in days.
TIMINGS: dict[str, tuple[int, int | None]] = {
    "open": (-100, None),
    "current": (-10, 10),
    "ends_today": (-5, 0),  # the end date is inclusive: still active
    "starts_today": (0, None),
    "expired": (-30, -1),
    "future": (1, None),
}
ACTIVE_TIMINGS = frozenset({"open", "current", "ends_today", "starts_today"})


@dataclass(frozen=True)
class Grant:
    role: Role
    node_indexes: tuple[int, ...]  # one node, or the nodes an organization serves
    timing: str
    via_organization: bool = False


@dataclass(frozen=True)
class World:
    parents: tuple[int | None, ...]  # parent index of each node (None for a district)
    kinds: tuple[str, ...]
    homes: tuple[int, ...]  # home node index of each person
    users: tuple[tuple[Grant, ...], ...]  # the grants of each user


@st.composite
def worlds(draw: st.DrawFn) -> World:
    parents: list[int | None] = [None] * draw(st.integers(1, 2))
    kinds: list[str] = [NodeKind.DISTRICT] * len(parents)
    for _ in range(draw(st.integers(0, 22))):
        can_have_children = [index for index, kind in enumerate(kinds) if CHILD_KINDS[kind]]
        # Half the time go one level deeper under the newest node, so trees reach households.
        if draw(st.booleans()) and CHILD_KINDS[kinds[-1]]:
            parent = len(kinds) - 1
        else:
            parent = draw(st.sampled_from(can_have_children))
        parents.append(parent)
        kinds.append(draw(st.sampled_from(sorted(CHILD_KINDS[kinds[parent]]))))
    node_index = st.integers(0, len(kinds) - 1)
    homes = draw(st.lists(node_index, max_size=6))
    grant = st.builds(
        Grant,
        role=st.sampled_from(list(Role)),
        node_indexes=st.tuples(node_index),
        timing=st.sampled_from(sorted(TIMINGS)),
    )
    organization_grant = st.builds(
        Grant,
        role=st.sampled_from(list(Role)),
        node_indexes=st.lists(node_index, min_size=1, max_size=3, unique=True).map(tuple),
        timing=st.sampled_from(sorted(TIMINGS)),
        via_organization=st.just(True),
    )
    users = draw(
        st.lists(
            st.lists(st.one_of(grant, grant, organization_grant), max_size=3).map(tuple),
            min_size=1,
            max_size=3,
        )
    )
    return World(tuple(parents), tuple(kinds), tuple(homes), tuple(users))


def ancestors_or_self(world: World, index: int) -> Iterable[int]:
    current: int | None = index
    while current is not None:
        yield current
        current = world.parents[current]


def expected_nodes(world: World, grants: Iterable[Grant], perm: Perm) -> set[int]:
    """Indexes of the nodes in the union of the subtrees of the active grants holding `perm`."""
    roots = {
        index
        for grant in grants
        if grant.timing in ACTIVE_TIMINGS and perm in ROLE_PERMISSIONS[grant.role]
        for index in grant.node_indexes
    }
    return {index for index in range(len(world.kinds)) if roots & set(ancestors_or_self(world, index))}


def is_staff(grants: Iterable[Grant]) -> bool:
    """Whether the staff web lets the user in: an active role that sees the network."""
    return any(grant.timing in ACTIVE_TIMINGS and grant.role in STAFF_ROLES for grant in grants)


def children_of(world: World, index: int) -> set[int]:
    return {child for child, parent in enumerate(world.parents) if parent == index}


def sample(
    everything: range | list[int], inside: set[int], data: st.DataObject | None, label: str
) -> list[int]:
    """Some indexes to ask about: the first inside and the first outside, plus a few drawn at
    random (all of them for the explicit example)."""
    every = list(everything)
    if data is None or not every:
        return every
    chosen = {min(inside, default=every[0]), min(set(every) - inside, default=every[0])}
    chosen |= set(data.draw(st.lists(st.sampled_from(every), max_size=3), label=label))
    return sorted(chosen)


class ScopeIsExactlyTheActiveSubtrees(TestCase):
    def build(self, world: World) -> tuple[list[Node], list[int], list[User]]:
        root = superactor()
        nodes: list[Node | None] = [None] * len(world.kinds)
        for index, parent in enumerate(world.parents):
            if parent is None:
                nodes[index] = node_create(
                    actor=root, parent=None, kind=NodeKind.DISTRICT, code=f"N{index}", name=f"区{index}"
                )
        for index in range(len(world.kinds)):  # a parent's index is always below its children's
            children = [child for child, parent in enumerate(world.parents) if parent == index]
            if children:
                specs = [
                    NodeSpec(world.kinds[child], f"N{child}", f"节点{child}", self.attributes(world, child))
                    for child in children
                ]
                for child, node in zip(children, nodes_bulk_add(nodes[index], specs), strict=True):  # type: ignore[arg-type]
                    nodes[child] = node
        built = [node for node in nodes if node is not None]
        assert len(built) == len(world.kinds)
        people = [
            person_create(
                actor=root,
                home_id=built[home].pk,
                data=PersonData(name=f"居民{number}", phone=f"139{number:08d}"),
            ).pk
            for number, home in enumerate(world.homes)
        ]
        users = [self.user_with(number, grants, built) for number, grants in enumerate(world.users)]
        return built, people, users

    @staticmethod
    def attributes(world: World, index: int) -> dict[str, object]:
        return {"door_number": str(index)} if world.kinds[index] == NodeKind.HOUSEHOLD else {}

    @staticmethod
    def user_with(number: int, grants: tuple[Grant, ...], nodes: list[Node]) -> User:
        user = User.objects.create_user(f"user{number}", password="irrelevant-password")
        today = clock.today()
        for grant_number, grant in enumerate(grants):
            start, end = TIMINGS[grant.timing]
            dates = {
                "starts_on": today + dt.timedelta(days=start),
                "ends_on": today + dt.timedelta(days=end) if end is not None else None,
            }
            if grant.via_organization:
                organization = Organization.objects.create(
                    code=f"O{number}-{grant_number}",
                    name=f"组织{number}-{grant_number}",
                    kind=OrganizationKind.SOCIAL_ORGANIZATION,
                )
                organization.nodes.set([nodes[index] for index in grant.node_indexes])
                RoleAssignment.objects.create(user=user, role=grant.role, organization=organization, **dates)
            else:
                (index,) = grant.node_indexes
                RoleAssignment.objects.create(user=user, role=grant.role, node=nodes[index], **dates)
        return user

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(world=worlds(), data=st.data())
    @example(
        # Two districts; nested grants (district admin over a grid worker's grid); an expired
        # grant on the other district; a building leader's future grant; an organization grant.
        world=World(
            parents=(None, None, 0, 2, 3, 4, 5, 6, 1),
            kinds=(
                "district",
                "district",
                "subdistrict",
                "community",
                "grid",
                "compound",
                "building",
                "household",
                "subdistrict",
            ),
            homes=(7, 6, 8, 3),
            users=(
                (Grant(Role.GRID_WORKER, (4,), "open"), Grant(Role.DISTRICT_ADMIN, (1,), "expired")),
                (Grant(Role.DISTRICT_ADMIN, (0,), "current"), Grant(Role.GRID_WORKER, (4,), "ends_today")),
                (Grant(Role.BUILDING_LEADER, (6,), "future"), Grant(Role.RESIDENT, (7,), "open")),
                (Grant(Role.DEPARTMENT_HANDLER, (3, 8), "starts_today", via_organization=True),),
            ),
        ),
        data=None,
    ).via("nested, expired, future and organization grants")
    def test_every_actor_reads_exactly_the_subtrees_of_its_active_grants(
        self, world: World, data: st.DataObject | None
    ) -> None:
        nodes, people, users = self.build(world)
        node_ids = [node.pk for node in nodes]
        for number, (user, grants) in enumerate(zip(users, world.users, strict=True)):
            visible = expected_nodes(world, grants, Perm.VIEW_NETWORK)
            readable_homes = expected_nodes(world, grants, Perm.VIEW_PEOPLE)
            readable = {index for index, home in enumerate(world.homes) if home in readable_homes}
            expected_people = {people[index] for index in readable}
            actor = resolve_actor(user)

            assert set(Node.objects.visible_to(actor).values_list("pk", flat=True)) == {
                node_ids[index] for index in visible
            }
            assert set(person_search(actor=actor).values_list("pk", flat=True)) == expected_people

            api = self.client_for(user, token=number % 2 == 1)
            node_sample = sample(range(len(world.kinds)), visible, data, "nodes")
            for index in node_sample:
                response = api.get(f"/api/v1/nodes/{node_ids[index]}")
                assert response.status_code == (200 if index in visible else 404), (index, grants)
                children = api.get(f"/api/v1/nodes/{node_ids[index]}/children", {"limit": 200})
                if index in visible:  # a visible node's children are all in the same subtree
                    expected_children = {node_ids[child] for child in children_of(world, index)}
                    assert {item["id"] for item in children.json()["items"]} == expected_children
                else:
                    assert children.status_code == 404, (index, grants)
            people_page = api.get("/api/v1/people", {"limit": 200})
            if readable_homes:
                assert {item["id"] for item in people_page.json()["items"]} == expected_people
            else:
                assert people_page.status_code == 403
            person_sample = sample(range(len(people)), readable, data, "people")
            for index in person_sample:
                response = api.get(f"/api/v1/people/{people[index]}")
                assert response.status_code == (200 if index in readable else 404), (index, grants)

            self.check_web(
                user,
                staff=is_staff(grants),
                # A whole page renders a template: ask about the first visible and hidden node only.
                nodes={
                    node_ids[i]: i in visible
                    for i in {min(visible, default=0), min(set(node_sample) - visible, default=0)}
                },
                people={people[i]: i in readable for i in person_sample},
                expected_people=expected_people,
            )

    @staticmethod
    def client_for(user: User, *, token: bool) -> Client:
        if token:
            return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}")
        client = Client()
        client.force_login(user)
        return client

    def check_web(
        self,
        user: User,
        *,
        staff: bool,
        nodes: dict[int, bool],
        people: dict[int, bool],
        expected_people: set[int],
    ) -> None:
        """The staff web: a user without an active staff role is refused every page (403); a
        staff user reads a page in scope (200) and finds nothing outside it (404)."""
        client = Client()
        client.force_login(user)
        pages = [(f"/nodes/{pk}/", shown) for pk, shown in nodes.items()]
        pages += [(f"/people/{pk}/", shown) for pk, shown in people.items()]
        for url, shown in pages:
            status = client.get(url).status_code
            assert status == (403 if not staff else 200 if shown else 404), url
        search = client.get("/people/")
        if not staff:
            assert search.status_code == 403
            return
        found = search.context["page"]
        assert found.paginator.num_pages == 1  # a handful of people: one page holds them all
        assert {person.pk for person in found.object_list} == expected_people
