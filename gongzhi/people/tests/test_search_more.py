"""Search by a whole ID number (keyed hash; audited; only for those who may reveal) and
households found by their door number even when nobody lives there yet."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.services import api_token_issue
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.testing import SmallTree, make_id_number, make_user

pytestmark = pytest.mark.django_db

ID_A = make_id_number(1)  # 张秀英, household 101 of grid A
ID_B = make_id_number(2, "19620101")  # 李建国, household 201 of grid B


def _login(client: Client, role: Role, node: object) -> User:
    user = make_user(role=role, node=node)  # type: ignore[arg-type]
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def _lookups() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditAction.LOOKUP).order_by("pk"))


def _find(client: Client, id_number: str) -> object:
    return client.post(reverse("people:find_by_id_number"), {"id_number": id_number})


def test_a_grid_worker_finds_her_resident_by_id_number_and_it_is_audited(
    client: Client, tree: SmallTree
) -> None:
    worker = _login(client, Role.GRID_WORKER, tree.grid_a)
    search = client.get(reverse("people:search")).content.decode()
    assert f'action="{reverse("people:find_by_id_number")}"' in search
    response = _find(client, f" {ID_A.lower()} ")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response["Location"] == reverse("people:detail", args=[tree.resident_a.pk])  # type: ignore[index]
    page = client.get(response["Location"]).content.decode()  # type: ignore[index]
    assert "written to the audit log" in page
    assert ID_A not in page  # found by it, never shown whole
    (entry,) = _lookups()
    assert (entry.target_type, entry.target_id, entry.field) == (
        "people.person",
        str(tree.resident_a.pk),
        "id_number",
    )
    assert (entry.node_path, entry.changes, entry.actor_id) == (
        tree.household_a1.path,
        {"found": True},
        worker.pk,
    )
    assert ID_A not in str(entry.changes) + entry.reason + entry.target_repr


def test_an_id_number_outside_the_reveal_scope_finds_nobody_and_the_try_is_audited(
    client: Client, tree: SmallTree
) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    response = _find(client, ID_B)
    assert response.status_code == 404  # type: ignore[attr-defined]
    assert "Nobody with this ID number" in response.content.decode()  # type: ignore[attr-defined]
    (entry,) = _lookups()
    assert (entry.target_id, entry.changes, entry.node_path) == ("", {"found": False}, tree.grid_a.path)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("37088219560312001", "17 digits followed by a digit or X"),
        (ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1"), "check digit is wrong"),
        ("", "This field is required."),
    ],
)
def test_a_mistyped_id_number_is_said_to_be_wrong_and_not_looked_up(
    client: Client, tree: SmallTree, typed: str, message: str
) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    response = _find(client, typed)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert message in response.content.decode()  # type: ignore[attr-defined]
    assert _lookups() == []


def test_an_id_number_typed_in_the_search_box_matches_nothing_and_says_where_to_go(
    client: Client, tree: SmallTree
) -> None:
    """A GET would keep the number in addresses, history and access logs: no look-up there."""
    _login(client, Role.GRID_WORKER, tree.grid_a)
    response = client.get(reverse("people:search"), {"q": ID_A})
    assert response.context["page"].paginator.count == 0
    assert "Find by ID number" in response.content.decode()
    assert _lookups() == []
    assert client.get("/api/v1/people", {"q": ID_A}).json()["count"] == 0


def test_those_who_may_not_reveal_cannot_look_up_an_id_number(client: Client, tree: SmallTree) -> None:
    _login(client, Role.BUILDING_LEADER, tree.building_a)
    assert reverse("people:find_by_id_number") not in client.get(reverse("people:search")).content.decode()
    assert _find(client, ID_A).status_code == 403  # type: ignore[attr-defined]
    notice = client.get(reverse("people:search"), {"q": ID_A}).content.decode()
    assert "needs the permission to reveal personal data" in notice
    assert _lookups() == []


def test_the_api_looks_up_by_id_number_for_revealers_and_refuses_others(tree: SmallTree) -> None:
    worker = make_user(role=Role.GRID_WORKER, node=tree.grid_a)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=worker)}")
    found = api.post("/api/v1/people/lookup", {"id_number": ID_A}, content_type="application/json")
    assert found.status_code == 200
    assert found.json()["id"] == tree.resident_a.pk
    assert found.json()["id_number"] != ID_A
    missing = api.post("/api/v1/people/lookup", {"id_number": ID_B}, content_type="application/json")
    assert missing.status_code == 404
    wrong = api.post("/api/v1/people/lookup", {"id_number": ID_A[:-1] + "Y"}, content_type="application/json")
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_id_number")
    assert [entry.changes["found"] for entry in _lookups()] == [True, False]
    leader = make_user(role=Role.BUILDING_LEADER, node=tree.building_a)
    refused = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=leader)}").post(
        "/api/v1/people/lookup", {"id_number": ID_A}, content_type="application/json"
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert len(_lookups()) == 2


def test_an_empty_household_is_found_by_its_door_number(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    response = client.get(reverse("people:search"), {"q": "102"})
    assert response.context["households"] == [tree.household_a2]
    assert response.context["page"].paginator.count == 0
    html = response.content.decode()
    assert reverse("territory:node", args=[tree.household_a2.pk]) in html
    assert "春都华府 1号楼 102" in html
    assert "nobody registered" in html
    assert "Nobody in your area matches" not in html


def test_households_found_by_door_number_stay_in_scope(client: Client, tree: SmallTree) -> None:
    _login(client, Role.GRID_WORKER, tree.grid_a)
    assert client.get(reverse("people:search"), {"q": "201"}).context["households"] == []
    secretary = Client()
    _login(secretary, Role.COMMUNITY_SECRETARY, tree.community)
    found = secretary.get(reverse("people:search"), {"q": "201"})
    assert found.context["households"] == [tree.household_b1]
    assert [person.pk for person in found.context["page"].object_list] == [tree.resident_b.pk]
    within = secretary.get(reverse("people:search"), {"q": "201", "node": tree.grid_a.pk})
    assert within.context["households"] == []


def test_those_without_people_scope_find_no_household(client: Client, tree: SmallTree) -> None:
    _login(client, Role.AUDITOR, tree.district)
    assert client.get(reverse("people:search"), {"q": "102"}).context["households"] == []
