"""Giving a role in the staff web: /accounts/roles/new/?node=<id> calls `role_assign`."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core import clock
from gongzhi.core.testing import SmallTree, make_user
from gongzhi.territory.models import Node, NodeStats

pytestmark = pytest.mark.django_db


def _client(user: User, **kwargs: bool) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _url(node: Node) -> str:
    return f"{reverse('accounts:role_new')}?node={node.pk}"


def _secretary(node: Node) -> User:
    return make_user("secretary", role=Role.COMMUNITY_SECRETARY, node=node)


def _leader() -> User:
    user = make_user("wang-fang")
    user.display_name = "王芳"
    user.save()
    return user


def _given() -> list[tuple[str, str, int | None]]:
    """The roles given besides the fixtures' (which make_user creates without the service)."""
    return list(
        RoleAssignment.objects.exclude(user__username="secretary").values_list(
            "user__username", "role", "node_id"
        )
    )


def _leaders(*nodes: Node) -> list[int]:
    return [NodeStats.objects.get(node=node).building_leaders for node in nodes]


def _field_error(html: str, name: str) -> str:
    """The text of the error shown next to field `name` (its id is what the input's aria-describedby names)."""
    match = re.search(rf'<span class="errorlist" id="id_{name}_error" role="alert">(.*?)</span>', html)
    return match.group(1) if match else ""


def test_the_form_shows_the_place_its_ancestors_and_the_roles_that_fit_it(tree: SmallTree) -> None:
    client = _client(_secretary(tree.community))
    response = client.get(_url(tree.building_a), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Assign a role at 1号楼" in html
    assert '<span class="kind-badge">Building</span>' in html
    for ancestor in (tree.community, tree.grid_a):  # the breadcrumb, within the secretary's scope
        assert f'href="{reverse("territory:node", args=[ancestor.pk])}"' in html
    assert f'href="{reverse("territory:node", args=[tree.subdistrict.pk])}"' not in html
    assert f'value="{clock.today().isoformat()}"' in html  # starts today unless told otherwise
    building_roles = dict(response.context["form"].fields["role"].choices)
    assert Role.BUILDING_LEADER in building_roles
    assert Role.GRID_WORKER in building_roles
    grid_roles = dict(client.get(_url(tree.grid_a)).context["form"].fields["role"].choices)
    assert Role.BUILDING_LEADER not in grid_roles
    assert Role.GRID_WORKER in grid_roles


def test_a_secretary_makes_someone_building_leader_counted_and_audited(tree: SmallTree) -> None:
    secretary, leader = _secretary(tree.community), _leader()
    today = clock.today()
    assert _leaders(tree.building_a, tree.grid_a, tree.community) == [0, 0, 0]
    response = _client(secretary).post(
        _url(tree.building_a),
        {
            "username": "wang-fang",
            "role": Role.BUILDING_LEADER,
            "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=365)).isoformat(),
        },
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert response.redirect_chain == [(reverse("accounts:roles"), 302)]
    given = RoleAssignment.objects.get(user=leader)
    assert (given.role, given.node_id, given.organization_id) == (
        Role.BUILDING_LEADER,
        tree.building_a.pk,
        None,
    )
    assert (given.starts_on, given.ends_on) == (today, today + dt.timedelta(days=365))
    entry = AuditEntry.objects.get(target_type="accounts.roleassignment", target_id=str(given.pk))
    assert (entry.action, entry.actor_username, entry.node_path) == (
        AuditAction.CREATE,
        "secretary",
        tree.building_a.path,
    )
    assert entry.changes["user"] == "wang-fang"
    assert _leaders(tree.building_a, tree.grid_a, tree.community, tree.building_b) == [1, 1, 1, 0]
    html = response.content.decode()
    message = str(next(iter(response.context["messages"])))
    assert message == (
        f"王芳 (wang-fang) holds the role of Building leader at 奎星楼社区 › 第一网格 › 春都华府 › 1号楼 "
        f"from {today.isoformat()} to {(today + dt.timedelta(days=365)).isoformat()}."
    )
    assert given in response.context["page"].object_list  # the new row on the roles page
    assert "wang-fang" in html


def test_a_role_without_end_date_starting_later_is_given_and_not_yet_counted(tree: SmallTree) -> None:
    make_user("zhao-grid")
    start = clock.today() + dt.timedelta(days=10)
    response = _client(_secretary(tree.community)).post(
        _url(tree.grid_a), {"username": "zhao-grid", "role": Role.GRID_WORKER, "starts_on": start.isoformat()}
    )
    assert response.status_code == 302
    assert _given() == [("zhao-grid", Role.GRID_WORKER, tree.grid_a.pk)]
    assert RoleAssignment.objects.get(user__username="zhao-grid").ends_on is None


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh-hans", "没有此用户名的账号。"), ("en", "No account with this username.")],
)
@pytest.mark.parametrize("username", ["nobody", "retired", ""])
def test_an_unknown_or_inactive_account_is_refused_next_to_the_username(
    tree: SmallTree, language: str, message: str, username: str
) -> None:
    User.objects.create_user("retired", is_active=False)
    response = _client(_secretary(tree.community)).post(
        _url(tree.building_a),
        {"username": username, "role": Role.BUILDING_LEADER, "starts_on": clock.today().isoformat()},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 422
    error = _field_error(response.content.decode(), "username")
    if username:
        assert error == message
    else:
        assert error  # "required", in the page's language
    assert _given() == []
    assert not AuditEntry.objects.filter(target_type="accounts.roleassignment").exists()


def test_the_username_is_found_whatever_its_case_and_the_display_name_shown(tree: SmallTree) -> None:
    _leader()
    client = _client(_secretary(tree.community))
    data = {"username": " Wang-Fang ", "role": Role.BUILDING_LEADER, "starts_on": "2030-03-02"}
    response = client.post(
        _url(tree.building_a), {**data, "ends_on": "2030-03-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 422  # the dates are wrong, the account is right
    assert _field_error(html, "username") == ""
    assert "Account found: 王芳" in html
    assert client.post(_url(tree.building_a), data).status_code == 302
    assert _given() == [("wang-fang", Role.BUILDING_LEADER, tree.building_a.pk)]


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh-hans", "角色的结束日期不能早于开始日期。"), ("en", "A role cannot end before it starts.")],
)
def test_an_end_before_the_start_is_refused_next_to_the_end(
    tree: SmallTree, language: str, message: str
) -> None:
    _leader()
    response = _client(_secretary(tree.community)).post(
        _url(tree.building_a),
        {
            "username": "wang-fang",
            "role": Role.BUILDING_LEADER,
            "starts_on": "2030-03-02",
            "ends_on": "2030-03-01",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 422
    assert _field_error(response.content.decode(), "ends_on") == message
    assert _given() == []


def test_a_second_submit_does_not_give_the_role_twice_and_says_why(tree: SmallTree) -> None:
    _leader()
    client = _client(_secretary(tree.community))
    start = clock.today().isoformat()
    data = {"username": "wang-fang", "role": Role.BUILDING_LEADER, "starts_on": start}
    assert client.post(_url(tree.building_a), data).status_code == 302
    again = client.post(_url(tree.building_a), data, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 422
    assert f'<p class="error-box" role="alert">王芳 already holds this role there from {start}.</p>' in (
        again.content.decode()
    )
    assert _given() == [("wang-fang", Role.BUILDING_LEADER, tree.building_a.pk)]
    assert AuditEntry.objects.filter(target_type="accounts.roleassignment").count() == 1
    assert _leaders(tree.building_a, tree.community) == [1, 1]
    chinese = client.post(_url(tree.building_a), data)
    assert f"王芳 自 {start} 起已在此担任该角色。" in chinese.content.decode()


def test_a_role_that_does_not_fit_the_place_is_refused(tree: SmallTree) -> None:
    _leader()
    response = _client(_secretary(tree.community)).post(
        _url(tree.grid_a),
        {"username": "wang-fang", "role": Role.BUILDING_LEADER, "starts_on": clock.today().isoformat()},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert "Select a valid choice." in _field_error(response.content.decode(), "role")
    assert _given() == []


def test_a_place_outside_the_secretarys_scope_is_not_found(tree: SmallTree) -> None:
    _leader()
    client = _client(_secretary(tree.grid_a))
    data = {"username": "wang-fang", "role": Role.BUILDING_LEADER, "starts_on": clock.today().isoformat()}
    assert client.get(_url(tree.building_b)).status_code == 404
    assert client.post(_url(tree.building_b), data).status_code == 404
    assert client.get(_url(tree.building_a)).status_code == 200  # her own grid's building
    assert _given() == []


@pytest.mark.parametrize("query", ["", "?node=", "?node=abc", "?node=999999"])
def test_a_missing_or_unknown_place_is_not_found(tree: SmallTree, query: str) -> None:
    client = _client(_secretary(tree.community))
    assert client.get(reverse("accounts:role_new") + query).status_code == 404


@pytest.mark.parametrize(
    ("role", "where"),
    [
        (Role.GRID_WORKER, "grid_a"),
        (Role.COMMUNITY_STAFF, "community"),
        (Role.BUILDING_LEADER, "building_a"),
    ],
)
def test_those_who_do_not_manage_roles_find_no_form_even_where_they_see(
    tree: SmallTree, role: Role, where: str
) -> None:
    """As on the other roles pages: not found, not forbidden."""
    _leader()
    client = _client(make_user("staff", role=role, node=getattr(tree, where)))
    data = {"username": "wang-fang", "role": Role.BUILDING_LEADER, "starts_on": clock.today().isoformat()}
    assert client.get(_url(tree.building_a)).status_code == 404
    assert client.post(_url(tree.building_a), data).status_code == 404
    assert list(RoleAssignment.objects.exclude(user__username="staff")) == []


def test_the_form_needs_its_csrf_token(tree: SmallTree) -> None:
    _leader()
    client = _client(_secretary(tree.community), enforce_csrf_checks=True)
    data = {"username": "wang-fang", "role": Role.BUILDING_LEADER, "starts_on": clock.today().isoformat()}
    assert client.post(_url(tree.building_a), data).status_code == 403
    assert _given() == []
    token = client.get(_url(tree.building_a)).context["csrf_token"]
    assert client.post(_url(tree.building_a), {**data, "csrfmiddlewaretoken": token}).status_code == 302
    assert _given() == [("wang-fang", Role.BUILDING_LEADER, tree.building_a.pk)]


def test_the_roles_page_says_where_roles_are_given(tree: SmallTree) -> None:
    html = _client(_secretary(tree.community)).get(reverse("accounts:roles")).content.decode()
    assert "在此分配角色" in html
    assert f'<a href="{reverse("territory:home")}">' in html


def test_the_page_offers_a_secretary_no_role_reaching_beyond_her_place(client, tree) -> None:
    client.force_login(make_user("sec", role=Role.COMMUNITY_SECRETARY, node=tree.community))
    html = client.get(
        f"/accounts/roles/new/?node={tree.grid_a.pk}", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'value="grid_worker"' in html
    assert 'value="district_admin"' not in html and 'value="auditor"' not in html
