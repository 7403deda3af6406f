"""GET /api/v1/nodes/{id} and /children: attributes, counts, pages, and 404 outside scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.services import api_token_issue
from gongzhi.core.testing import SmallTree, make_user, superactor
from gongzhi.territory.models import Node, Organization, OrganizationKind
from gongzhi.territory.services import node_update


def as_session(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def as_token(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}")


AUTHS = pytest.mark.parametrize("login", [as_session, as_token], ids=["session", "token"])


@AUTHS
def test_household_shows_its_attributes_parent_and_counts(tree: SmallTree, login) -> None:
    caller = login(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    node_update(actor=superactor(), node_id=tree.household_a1.pk, is_party_member_household=True)

    response = caller.get(f"/api/v1/nodes/{tree.household_a1.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "id": tree.household_a1.pk,
        "code": "KXL-CDHF-1-101",
        "name": "101",
        "kind": "household",
        "kind_label": "户",  # zh-hans is the default language
        "parent_id": tree.building_a.pk,
        "depth": 7,
        "point": None,
        "boundary": None,
        "year_built": None,
        "heating": None,
        "property_manager_id": None,
        "floors": None,
        "door_number": "101",
        "floor_area": "89.50",
        "is_party_member_household": True,
        "counts": {"households": 1, "residents": 1, "party_members": 0, "building_leaders": 0},
    }


def test_compound_shows_point_boundary_and_compound_attributes(tree: SmallTree) -> None:
    manager = Organization.objects.create(
        code="WY-1", name="春都物业", kind=OrganizationKind.PROPERTY_MANAGER
    )
    compound = Node.objects.get(code="KXL-CDHF")
    boundary = {
        "type": "Polygon",
        "coordinates": [[[116.8, 35.5], [116.9, 35.5], [116.9, 35.6], [116.8, 35.5]]],
    }
    node_update(
        actor=superactor(),
        node_id=compound.pk,
        latitude=Decimal("35.551200"),
        longitude=Decimal("116.828300"),
        boundary=boundary,
        heating="central",
        property_manager=manager,
    )
    caller = as_session(make_user(role=Role.COMMUNITY_SECRETARY, node=tree.community))

    body = caller.get(f"/api/v1/nodes/{compound.pk}").json()

    assert body["point"] == {"lat": 35.5512, "lng": 116.8283}
    assert body["boundary"] == boundary
    assert (body["year_built"], body["heating"], body["property_manager_id"]) == (2008, "central", manager.pk)
    assert body["counts"] == {"households": 2, "residents": 1, "party_members": 0, "building_leaders": 0}
    assert body["parent_id"] == tree.grid_a.pk


def test_scope_root_is_visible_with_its_parent_id_but_the_parent_is_not(tree: SmallTree) -> None:
    caller = as_session(make_user(role=Role.GRID_WORKER, node=tree.grid_a))

    body = caller.get(f"/api/v1/nodes/{tree.grid_a.pk}").json()

    assert body["parent_id"] == tree.community.pk
    assert body["counts"]["households"] == 2
    assert caller.get(f"/api/v1/nodes/{tree.community.pk}").status_code == 404


@AUTHS
def test_nodes_outside_the_scope_answer_404_like_missing_ones(tree: SmallTree, login) -> None:
    caller = login(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    missing = Node.objects.order_by("-pk").first().pk + 1  # type: ignore[union-attr]

    for node in (tree.grid_b, tree.building_b, tree.household_b1, tree.district):
        for url in (f"/api/v1/nodes/{node.pk}", f"/api/v1/nodes/{node.pk}/children"):
            response = caller.get(url)
            assert response.status_code == 404, url
            assert response.json() == {"code": "not_found", "message": "未找到相关内容。"}
    assert caller.get(f"/api/v1/nodes/{missing}").json() == {
        "code": "not_found",
        "message": "未找到相关内容。",
    }


def test_a_role_without_network_view_sees_no_node(tree: SmallTree) -> None:
    caller = as_token(make_user(role=Role.RESIDENT, node=tree.household_a1))

    assert caller.get(f"/api/v1/nodes/{tree.household_a1.pk}").status_code == 404


@AUTHS
def test_children_are_listed_with_counts_and_a_total(tree: SmallTree, login) -> None:
    caller = login(make_user(role=Role.COMMUNITY_STAFF, node=tree.community))

    response = caller.get(f"/api/v1/nodes/{tree.community.pk}/children")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["limit"], body["offset"]) == (2, 50, 0)
    assert [(item["name"], item["parent_id"], item["counts"]["residents"]) for item in body["items"]] == [
        ("第一网格", tree.community.pk, 1),
        ("第二网格", tree.community.pk, 1),
    ]


def test_children_are_paginated_by_limit_and_offset_or_page(tree: SmallTree) -> None:
    caller = as_session(make_user(role=Role.GRID_CHIEF, node=tree.grid_a))
    url = f"/api/v1/nodes/{tree.building_a.pk}/children"

    by_offset = caller.get(url, {"limit": 1, "offset": 1}).json()
    by_page = caller.get(url, {"limit": 1, "page": 2}).json()

    assert by_offset == by_page
    assert (by_offset["count"], by_offset["offset"]) == (2, 1)
    assert [item["door_number"] for item in by_offset["items"]] == ["102"]
    too_big = caller.get(url, {"limit": 1000})
    assert too_big.status_code == 422
    assert too_big.json()["code"] == "validation_failed"


def test_children_list_needs_a_fixed_number_of_queries(tree: SmallTree, django_assert_num_queries) -> None:
    caller = as_token(make_user(role=Role.COMMUNITY_STAFF, node=tree.community))
    url = f"/api/v1/nodes/{tree.building_a.pk}/children"
    caller.get(url)  # the token's first use stamps last_used_at (once a minute at most)

    # token, role grants, node, count, page (with counts joined)
    with django_assert_num_queries(5):
        assert caller.get(url).status_code == 200
