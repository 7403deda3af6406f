from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.core.testing import SmallTree, make_user

pytestmark = pytest.mark.django_db


def _client_for(client: Client, role: Role, node: object) -> Client:
    client.force_login(make_user(role=role, node=node))  # type: ignore[arg-type]
    return client


def test_anonymous_is_sent_to_login(client: Client, tree: SmallTree) -> None:
    response = client.get(reverse("territory:home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/"


def test_home_shows_grid_workers_own_grid_with_counts(client: Client, tree: SmallTree) -> None:
    _client_for(client, Role.GRID_WORKER, tree.grid_a)
    response = client.get(reverse("territory:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "第一网格" in html
    assert "春都华府" in html
    assert "第二网格" not in html
    assert "东苑小区" not in html
    assert reverse("territory:node", args=[tree.grid_a.pk]) in html


def test_home_of_secretary_shows_both_grids(client: Client, tree: SmallTree) -> None:
    _client_for(client, Role.COMMUNITY_SECRETARY, tree.community)
    html = client.get(reverse("territory:home")).content.decode()
    assert "第一网格" in html
    assert "第二网格" in html


def test_grid_worker_gets_404_for_other_grids_node(client: Client, tree: SmallTree) -> None:
    _client_for(client, Role.GRID_WORKER, tree.grid_a)
    assert client.get(reverse("territory:node", args=[tree.grid_b.pk])).status_code == 404
    assert client.get(reverse("territory:node", args=[tree.household_b1.pk])).status_code == 404
    assert client.get(reverse("territory:node", args=[tree.community.pk])).status_code == 404


def test_node_page_lists_households_with_breadcrumb(client: Client, tree: SmallTree) -> None:
    _client_for(client, Role.COMMUNITY_SECRETARY, tree.community)
    response = client.get(reverse("territory:node", args=[tree.building_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "89.50" in html and "120.00" in html
    assert reverse("territory:node", args=[tree.community.pk]) in html  # breadcrumb
    assert reverse("territory:node", args=[tree.district.pk]) not in html  # above the scope


def test_household_page_shows_its_people_masked(client: Client, tree: SmallTree) -> None:
    _client_for(client, Role.GRID_WORKER, tree.grid_a)
    html = client.get(reverse("territory:node", args=[tree.household_a1.pk])).content.decode()
    assert "张秀英" in html
    assert "138****1234" in html
    assert "13812341234" not in html


def test_empty_household_list_shows_empty_state(client: Client, tree: SmallTree) -> None:
    _client_for(client, Role.GRID_WORKER, tree.grid_a)
    html = client.get(reverse("territory:node", args=[tree.household_a2.pk])).content.decode()
    assert '<p class="empty">' in html
    assert "张秀英" not in html


def test_user_without_staff_role_sees_polite_page(client: Client, tree: SmallTree) -> None:
    _client_for(client, Role.RESIDENT, tree.household_a1)
    response = client.get(reverse("territory:home"))
    assert response.status_code == 403
    assert "accounts/not_staff.html" in [t.name for t in response.templates]


@pytest.mark.parametrize(
    ("role", "shown"),
    [(Role.COMMUNITY_SECRETARY, True), (Role.COMMUNITY_STAFF, False), (Role.GRID_WORKER, False)],
)
def test_the_node_page_links_to_assigning_a_role_only_for_those_who_manage_roles(
    client: Client, tree: SmallTree, role: Role, shown: bool
) -> None:
    _client_for(client, role, tree.community)
    html = client.get(reverse("territory:node", args=[tree.building_a.pk])).content.decode()
    link = f'href="{reverse("accounts:role_new")}?node={tree.building_a.pk}"'
    assert (link in html) is shown
    assert ("在此分配角色" in html) is shown
