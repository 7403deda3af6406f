"""Ending roles in the staff web (/accounts/roles/) and with the admin action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core import clock
from gongzhi.core.testing import SmallTree, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def roles(tree: SmallTree) -> dict[str, RoleAssignment]:
    return {
        "worker_a": make_user("worker-a", role=Role.GRID_WORKER, node=tree.grid_a).role_assignments.get(),
        "worker_b": make_user("worker-b", role=Role.GRID_WORKER, node=tree.grid_b).role_assignments.get(),
        "ended_a": make_user(
            "gone-a", role=Role.GRID_CHIEF, node=tree.grid_a, ends_on=dt.date(2021, 1, 1)
        ).role_assignments.get(),
    }


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_secretary_lists_the_roles_of_her_place_only(
    tree: SmallTree, roles: dict[str, RoleAssignment]
) -> None:
    secretary = make_user("secretary", role=Role.COMMUNITY_SECRETARY, node=tree.grid_a)
    client = _client(secretary)
    response = client.get(reverse("accounts:roles"))
    assert response.status_code == 200
    assert set(response.context["page"].object_list) == {
        roles["worker_a"],
        secretary.role_assignments.get(),
    }
    assert f'href="{reverse("accounts:roles")}"' in response.content.decode()  # in the navigation
    ended = client.get(reverse("accounts:roles"), {"ended": "on"})
    assert list(ended.context["page"].object_list) == [roles["ended_a"]]
    found = client.get(reverse("accounts:roles"), {"q": "worker"})
    assert list(found.context["page"].object_list) == [roles["worker_a"]]


def test_the_roles_page_is_not_found_for_those_who_do_not_manage_roles(
    tree: SmallTree, roles: dict[str, RoleAssignment]
) -> None:
    client = _client(make_user(role=Role.GRID_WORKER, node=tree.community))
    assert client.get(reverse("accounts:roles")).status_code == 404
    assert client.get(reverse("accounts:role_end", args=[roles["worker_a"].pk])).status_code == 404
    assert f'href="{reverse("accounts:roles")}"' not in client.get("/").content.decode()


def test_a_secretary_ends_a_role_with_a_reason(tree: SmallTree, roles: dict[str, RoleAssignment]) -> None:
    client = _client(make_user("secretary", role=Role.COMMUNITY_SECRETARY, node=tree.community))
    url = reverse("accounts:role_end", args=[roles["worker_a"].pk])
    page = client.get(url)
    assert page.status_code == 200
    assert f'value="{clock.today().isoformat()}"' in page.content.decode()
    response = client.post(url, {"ends_on": "2030-06-30", "reason": "退休"}, follow=True)
    assert response.redirect_chain == [(reverse("accounts:roles"), 302)]
    assert "2030-06-30" in response.content.decode()
    assert RoleAssignment.objects.get(pk=roles["worker_a"].pk).ends_on == dt.date(2030, 6, 30)
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, target_id=str(roles["worker_a"].pk)).get()
    assert (entry.actor_username, entry.reason) == ("secretary", "退休")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ends_on": "2030-06-30", "reason": ""}, "Give a reason for ending the role."),
        ({"ends_on": "30/06/2030", "reason": "退休"}, "Enter a valid date."),
        ({"ends_on": "2019-01-01", "reason": "退休"}, "cannot end before that day"),
        ({}, "Give a reason for ending the role."),  # an empty form is an error, not a fresh page
    ],
)
def test_a_bad_end_is_shown_again_with_its_error_and_changes_nothing(
    tree: SmallTree, roles: dict[str, RoleAssignment], data: dict[str, str], message: str
) -> None:
    client = _client(make_user("secretary", role=Role.COMMUNITY_SECRETARY, node=tree.community))
    response = client.post(
        reverse("accounts:role_end", args=[roles["worker_a"].pk]), data, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert RoleAssignment.objects.get(pk=roles["worker_a"].pk).ends_on is None
    assert not AuditEntry.objects.filter(target_type="accounts.roleassignment").exists()


def test_a_role_outside_the_secretarys_place_is_not_found(
    tree: SmallTree, roles: dict[str, RoleAssignment]
) -> None:
    client = _client(make_user("secretary", role=Role.COMMUNITY_SECRETARY, node=tree.grid_a))
    url = reverse("accounts:role_end", args=[roles["worker_b"].pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"ends_on": "2030-06-30", "reason": "退休"}).status_code == 404
    assert RoleAssignment.objects.get(pk=roles["worker_b"].pk).ends_on is None


def _admin_user(tree: SmallTree, node: object, *codenames: str) -> User:
    user = make_user("back-office", role=Role.COMMUNITY_SECRETARY, node=node)  # type: ignore[arg-type]
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_the_admin_action_asks_for_a_day_and_a_reason_then_ends_the_roles(
    tree: SmallTree, roles: dict[str, RoleAssignment]
) -> None:
    client = _client(_admin_user(tree, tree.community, "view_roleassignment", "change_roleassignment"))
    url = reverse("admin:accounts_roleassignment_changelist")
    chosen = [roles["worker_a"].pk, roles["worker_b"].pk]
    asked = client.post(url, {"action": "end_roles", "_selected_action": chosen})
    assert asked.status_code == 200
    assert 'name="reason"' in asked.content.decode()
    assert not AuditEntry.objects.filter(target_type="accounts.roleassignment").exists()
    done = client.post(
        url,
        {
            "action": "end_roles",
            "_selected_action": chosen,
            "apply": "yes",
            "ends_on": "2030-06-30",
            "reason": "换届",
        },
    )
    assert done.status_code == 302
    assert set(RoleAssignment.objects.filter(pk__in=chosen).values_list("ends_on", flat=True)) == {
        dt.date(2030, 6, 30)
    }
    reasons = AuditEntry.objects.filter(action=AuditAction.UPDATE, target_type="accounts.roleassignment")
    assert sorted(reasons.values_list("reason", flat=True)) == ["换届", "换届"]


def test_the_admin_action_ends_only_roles_in_scope(tree: SmallTree, roles: dict[str, RoleAssignment]) -> None:
    client = _client(_admin_user(tree, tree.grid_a, "view_roleassignment", "change_roleassignment"))
    url = reverse("admin:accounts_roleassignment_changelist")
    client.post(
        url,
        {
            "action": "end_roles",
            "_selected_action": [roles["worker_a"].pk, roles["worker_b"].pk],
            "apply": "yes",
            "ends_on": "2030-06-30",
            "reason": "换届",
        },
    )
    assert RoleAssignment.objects.get(pk=roles["worker_a"].pk).ends_on == dt.date(2030, 6, 30)
    assert RoleAssignment.objects.get(pk=roles["worker_b"].pk).ends_on is None  # not in the changelist


def test_the_admin_action_needs_the_change_permission(
    tree: SmallTree, roles: dict[str, RoleAssignment]
) -> None:
    client = _client(_admin_user(tree, tree.community, "view_roleassignment"))
    response = client.get(reverse("admin:accounts_roleassignment_changelist"))
    assert response.status_code == 200
    assert "end_roles" not in response.content.decode()
