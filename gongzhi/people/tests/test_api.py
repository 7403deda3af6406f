"""GET /api/v1/people (scoped, masked, paginated), /people/{id}, POST /people/{id}/reveal (audited)."""

from __future__ import annotations

import pytest
from django.test import Client

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.services import api_token_issue
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.testing import SmallTree, make_id_number, make_user
from gongzhi.people.models import PartyMember
from gongzhi.territory.models import Organization, OrganizationKind, PartyLevel

RAW_PHONES = ("13812341234", "13998765678")
RAW_ID_NUMBERS = (make_id_number(1), make_id_number(2, "19620101"))


def as_session(user: User, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    return client


def as_token(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}")


def reveals() -> int:
    return AuditEntry.objects.filter(action=AuditAction.REVEAL).count()


def assert_nothing_whole(content: bytes) -> None:
    for raw in (*RAW_PHONES, *RAW_ID_NUMBERS):
        assert raw.encode() not in content


def test_people_list_is_masked_with_home_and_address(tree: SmallTree) -> None:
    caller = as_token(make_user(role=Role.COMMUNITY_STAFF, node=tree.community))

    response = caller.get("/api/v1/people")

    assert response.status_code == 200
    assert_nothing_whole(response.content)
    body = response.json()
    assert (body["count"], body["limit"], body["offset"]) == (2, 50, 0)
    first = body["items"][0]
    assert first == {
        "id": tree.resident_a.pk,
        "name": "张秀英",
        "gender": "female",
        "birth_year": 1956,
        "phone": "138****1234",
        "id_number": "370**************" + RAW_ID_NUMBERS[0][-1],
        "home_id": tree.household_a1.pk,
        "address": "春都华府 1号楼 101",
        "tags": [{"code": "elderly_alone", "name": first["tags"][0]["name"]}],
    }
    assert body["items"][1]["phone"] == "139****5678"


def test_people_list_is_limited_to_the_scope(tree: SmallTree) -> None:
    caller = as_session(make_user(role=Role.GRID_WORKER, node=tree.grid_a))

    body = caller.get("/api/v1/people").json()

    assert body["count"] == 1
    assert [item["id"] for item in body["items"]] == [tree.resident_a.pk]
    # Searching for someone outside the scope finds nobody, even by the whole phone number.
    assert caller.get("/api/v1/people", {"q": RAW_PHONES[1]}).json()["count"] == 0


@pytest.mark.parametrize("query", ["张", "zxy", "101", "1234", "138****1234", RAW_PHONES[0]])
def test_people_are_found_by_name_initials_door_and_phone(tree: SmallTree, query: str) -> None:
    caller = as_session(make_user(role=Role.COMMUNITY_STAFF, node=tree.community))

    response = caller.get("/api/v1/people", {"q": query})

    assert [item["id"] for item in response.json()["items"]] == [tree.resident_a.pk]
    assert_nothing_whole(response.content)


def test_people_list_filters_by_a_node_in_scope_and_404s_outside(tree: SmallTree) -> None:
    caller = as_session(make_user(role=Role.GRID_WORKER, node=tree.grid_a))

    assert caller.get("/api/v1/people", {"node": tree.building_a.pk}).json()["count"] == 1
    assert caller.get("/api/v1/people", {"node": tree.household_a2.pk}).json()["count"] == 0
    outside = caller.get("/api/v1/people", {"node": tree.grid_b.pk})
    assert outside.status_code == 404
    assert outside.json()["code"] == "not_found"


def test_people_list_pages_carry_the_total(tree: SmallTree) -> None:
    caller = as_session(make_user(role=Role.COMMUNITY_STAFF, node=tree.community))

    second = caller.get("/api/v1/people", {"limit": 1, "page": 2}).json()

    assert (second["count"], second["limit"], second["offset"]) == (2, 1, 1)
    assert [item["id"] for item in second["items"]] == [tree.resident_b.pk]


def test_people_list_needs_the_view_people_permission(tree: SmallTree) -> None:
    caller = as_session(make_user(role=Role.DEPARTMENT_HANDLER, node=tree.community))

    response = caller.get("/api/v1/people")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_person_detail_is_masked_and_scoped(tree: SmallTree) -> None:
    branch = Organization.objects.create(
        code="KXL-DZB",
        name="奎星楼社区第一网格党支部",
        kind=OrganizationKind.PARTY,
        party_level=PartyLevel.BRANCH,
    )
    PartyMember.objects.create(person=tree.resident_a, organization=branch, joined_year=1980)
    caller = as_token(make_user(role=Role.BUILDING_LEADER, node=tree.building_a))

    response = caller.get(f"/api/v1/people/{tree.resident_a.pk}")

    assert response.status_code == 200
    assert_nothing_whole(response.content)
    body = response.json()
    assert (body["phone"], body["gender_label"], body["address"]) == (
        "138****1234",
        "女",
        "春都华府 1号楼 101",
    )
    assert body["residencies"] == [
        {
            "household_id": tree.household_a1.pk,
            "relation": "owner",
            "relation_label": "业主",
            "ownership_share": "1.0000",
        }
    ]
    assert body["party_membership"] == {
        "organization_id": branch.pk,
        "organization_name": "奎星楼社区第一网格党支部",
        "joined_year": 1980,
        "is_in_service": False,
    }
    outside = caller.get(f"/api/v1/people/{tree.resident_b.pk}")
    assert outside.status_code == 404
    assert outside.json() == {"code": "not_found", "message": "未找到相关内容。"}


def test_reveal_returns_the_whole_phone_and_is_audited_once_with_the_reason(tree: SmallTree) -> None:
    worker = make_user("wang", role=Role.GRID_WORKER, node=tree.grid_a)
    caller = as_token(worker)

    response = caller.post(
        f"/api/v1/people/{tree.resident_a.pk}/reveal",
        {"field": "phone", "reason": "上门走访前电话联系"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {"value": RAW_PHONES[0]}
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        worker.pk,
        "people.person",
        str(tree.resident_a.pk),
    )
    assert (entry.field, entry.reason, entry.ip_address) == ("phone", "上门走访前电话联系", "127.0.0.1")


def test_reveal_of_an_id_number(tree: SmallTree) -> None:
    caller = as_token(make_user(role=Role.COMMUNITY_SECRETARY, node=tree.community))

    response = caller.post(
        f"/api/v1/people/{tree.resident_b.pk}/reveal",
        {"field": "id_number", "reason": "办理低保核对身份"},
        content_type="application/json",
    )

    assert response.json() == {"value": RAW_ID_NUMBERS[1]}
    assert reveals() == 1


@pytest.mark.parametrize(
    ("role", "body", "status", "code"),
    [
        (Role.GRID_WORKER, {"field": "phone"}, 422, "reason_required"),
        (Role.GRID_WORKER, {"field": "phone", "reason": " "}, 422, "reason_required"),
        (Role.GRID_WORKER, {"field": "name", "reason": "看看"}, 422, "validation_failed"),
        (Role.BUILDING_LEADER, {"field": "phone", "reason": "联系住户"}, 403, "permission_denied"),
    ],
)
def test_refused_reveals_answer_an_error_and_audit_nothing(
    tree: SmallTree, role: Role, body: dict[str, str], status: int, code: str
) -> None:
    caller = as_token(make_user(role=role, node=tree.grid_a))

    response = caller.post(
        f"/api/v1/people/{tree.resident_a.pk}/reveal", body, content_type="application/json"
    )

    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert_nothing_whole(response.content)
    assert reveals() == 0


@pytest.mark.parametrize("login", [as_token, as_session], ids=["token", "session"])
def test_reveal_outside_the_scope_answers_404_and_audits_nothing(tree: SmallTree, login) -> None:
    caller = login(make_user(role=Role.GRID_WORKER, node=tree.grid_a))

    response = caller.post(
        f"/api/v1/people/{tree.resident_b.pk}/reveal",
        {"field": "phone", "reason": "联系住户"},
        content_type="application/json",
    )

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "未找到相关内容。"}
    assert reveals() == 0


def test_reveal_through_the_session_needs_the_csrf_token(tree: SmallTree) -> None:
    caller = as_session(make_user(role=Role.GRID_WORKER, node=tree.grid_a), enforce_csrf=True)
    url = f"/api/v1/people/{tree.resident_a.pk}/reveal"
    payload = {"field": "phone", "reason": "联系住户"}

    refused = caller.post(url, payload, content_type="application/json")

    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert reveals() == 0
    caller.get("/api/v1/me")  # any page hands out the CSRF cookie in the web; set it here
    caller.cookies["csrftoken"] = "a" * 32
    accepted = caller.post(url, payload, content_type="application/json", HTTP_X_CSRFTOKEN="a" * 32)
    assert accepted.status_code == 200
    assert reveals() == 1
