from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.testing import SmallTree, make_user

pytestmark = pytest.mark.django_db


def _staff(role: Role, node: object, *codenames: str) -> User:
    user = make_user(role=role, node=node)  # type: ignore[arg-type]
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_person_changelist_lists_only_in_scope_people_masked(client: Client, tree: SmallTree) -> None:
    client.force_login(_staff(Role.GRID_WORKER, tree.grid_a, "view_person"))
    response = client.get(reverse("admin:people_person_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [tree.resident_a]
    assert "138****1234" in html
    assert "13812341234" not in html


def test_out_of_scope_person_change_page_is_not_reachable(client: Client, tree: SmallTree) -> None:
    client.force_login(_staff(Role.GRID_WORKER, tree.grid_a, "view_person"))
    response = client.get(reverse("admin:people_person_change", args=[tree.resident_b.pk]))
    assert response.status_code == 302  # the admin redirects "does not exist" to its index


def test_person_change_page_never_shows_raw_phone_or_id(client: Client, tree: SmallTree) -> None:
    client.force_login(_staff(Role.GRID_WORKER, tree.grid_a, "view_person"))
    html = client.get(reverse("admin:people_person_change", args=[tree.resident_a.pk])).content.decode()
    assert "138****1234" in html
    assert "13812341234" not in html
    assert tree.resident_a.id_number_encrypted not in html


def test_node_changelist_is_scoped_to_grid(client: Client, tree: SmallTree) -> None:
    client.force_login(_staff(Role.GRID_WORKER, tree.grid_b, "view_node"))
    response = client.get(reverse("admin:territory_node_changelist"))
    names = {node.name for node in response.context["cl"].result_list}
    assert names == {"第二网格", "东苑小区", "3号楼", "201"}


def test_superuser_sees_everyone(client: Client, tree: SmallTree) -> None:
    client.force_login(User.objects.get(username="root"))
    response = client.get(reverse("admin:people_person_changelist"))
    assert set(response.context["cl"].result_list) == {tree.resident_a, tree.resident_b}


def test_audit_entries_cannot_be_added_changed_or_deleted_even_by_superuser(
    client: Client, tree: SmallTree
) -> None:
    client.force_login(User.objects.get(username="root"))
    entry = AuditEntry.objects.first()
    assert entry is not None
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert (
        client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_node_rename_in_admin_goes_through_service_and_is_audited(client: Client, tree: SmallTree) -> None:
    client.force_login(_staff(Role.COMMUNITY_STAFF, tree.community, "view_node", "change_node"))
    url = reverse("admin:territory_node_change", args=[tree.building_a.pk])
    response = client.post(
        url, {"name": "一号楼", "code": tree.building_a.code, "floors": "6", "heating": ""}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    tree.building_a.refresh_from_db()
    assert tree.building_a.name == "一号楼"
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, target_id=str(tree.building_a.pk)).get()
    assert entry.changes == {"name": ["1号楼", "一号楼"]}


def test_grid_worker_cannot_change_node_without_edit_network(client: Client, tree: SmallTree) -> None:
    client.force_login(_staff(Role.GRID_WORKER, tree.grid_a, "view_node", "change_node"))
    url = reverse("admin:territory_node_change", args=[tree.building_a.pk])
    client.post(url, {"name": "改名", "code": tree.building_a.code, "floors": "6", "heating": ""})
    tree.building_a.refresh_from_db()
    assert tree.building_a.name == "1号楼"


def test_role_assignment_outside_managed_scope_is_refused(client: Client, tree: SmallTree) -> None:
    secretary = _staff(Role.COMMUNITY_SECRETARY, tree.grid_a, "view_roleassignment", "add_roleassignment")
    client.force_login(secretary)
    target = make_user("newcomer")
    response = client.post(
        reverse("admin:accounts_roleassignment_add"),
        {"user": target.pk, "role": Role.GRID_WORKER, "node": tree.grid_b.pk, "starts_on": "2024-01-01"},
    )
    assert response.status_code == 200  # form shown again with an error
    assert not RoleAssignment.objects.filter(user=target).exists()


def test_role_assignment_in_scope_is_created_through_service(client: Client, tree: SmallTree) -> None:
    secretary = _staff(Role.COMMUNITY_SECRETARY, tree.community, "view_roleassignment", "add_roleassignment")
    client.force_login(secretary)
    target = make_user("newcomer")
    response = client.post(
        reverse("admin:accounts_roleassignment_add"),
        {"user": target.pk, "role": Role.GRID_WORKER, "node": tree.grid_b.pk, "starts_on": "2024-01-01"},
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=target)
    created = AuditEntry.objects.filter(
        action=AuditAction.CREATE, target_type="accounts.roleassignment", target_id=str(assignment.pk)
    )
    assert created.count() == 1


def test_non_superuser_cannot_make_themselves_superuser(client: Client, tree: SmallTree) -> None:
    user = _staff(Role.COMMUNITY_SECRETARY, tree.community, "view_user", "change_user")
    client.force_login(user)
    response = client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200
    assert 'name="is_superuser"' not in response.content.decode()


def test_an_overlapping_role_in_the_admin_is_a_form_error_not_a_crash(
    client: Client, tree: SmallTree
) -> None:
    secretary = _staff(Role.COMMUNITY_SECRETARY, tree.community, "view_roleassignment", "add_roleassignment")
    client.force_login(secretary)
    worker = make_user("worker", role=Role.GRID_WORKER, node=tree.grid_a)  # since 2020, no end
    response = client.post(
        reverse("admin:accounts_roleassignment_add"),
        {"user": worker.pk, "role": Role.GRID_WORKER, "node": tree.grid_a.pk, "starts_on": "2030-01-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "already holds this role there from 2020-01-01" in response.content.decode()
    assert RoleAssignment.objects.filter(user=worker).count() == 1
