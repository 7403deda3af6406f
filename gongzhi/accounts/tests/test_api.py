"""POST /api/v1/auth/token, bearer and session authentication, GET /api/v1/me, the spec."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from gongzhi.accounts.models import ApiToken, Role
from gongzhi.accounts.services import api_token_issue
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core import clock
from gongzhi.core.testing import PASSWORD, SmallTree, make_user
from gongzhi.territory.models import Organization, OrganizationKind

TOKEN_URL = "/api/v1/auth/token"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_token_issued_from_json_is_accepted_as_bearer(client: Client, tree: SmallTree) -> None:
    make_user("wang", role=Role.GRID_WORKER, node=tree.grid_a)

    response = client.post(
        TOKEN_URL, {"username": "wang", "password": PASSWORD}, content_type="application/json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("gz_")
    row = ApiToken.objects.get(user__username="wang")
    # JSON carries milliseconds.
    assert abs(dt.datetime.fromisoformat(body["expires_at"]) - row.expires_at) < dt.timedelta(milliseconds=1)
    assert row.expires_at > clock.now() + dt.timedelta(days=29)
    me = Client().get("/api/v1/me", **bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "wang"


def test_token_issued_from_form(client: Client, db: None) -> None:
    make_user("li")

    response = client.post(TOKEN_URL, {"username": "li", "password": PASSWORD})

    assert response.status_code == 200
    assert response.json()["token"].startswith("gz_")


def test_token_endpoint_needs_no_csrf_token(db: None) -> None:
    make_user("li")
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(TOKEN_URL, {"username": "li", "password": PASSWORD})

    assert response.status_code == 200


def test_wrong_password_answers_401_bad_credentials_and_issues_nothing(client: Client, db: None) -> None:
    make_user("li")

    response = client.post(
        TOKEN_URL, {"username": "li", "password": "wrong"}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "bad_credentials"
    assert response.json()["message"]
    assert ApiToken.objects.count() == 0
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, target_repr="li").count() == 1


def test_missing_credentials_answer_422(client: Client, db: None) -> None:
    for body in ({"username": "li"}, {}, ["li", "pw"]):
        response = client.post(TOKEN_URL, body, content_type="application/json")
        assert response.status_code == 422
        assert response.json()["code"] == "credentials_required"
    garbage = client.post(TOKEN_URL, "{not json", content_type="application/json")
    assert garbage.status_code == 422


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_lockout_refuses_even_the_right_password_with_429(client: Client, db: None) -> None:
    make_user("li")
    for _ in range(3):
        assert client.post(TOKEN_URL, {"username": "li", "password": "wrong"}).status_code == 401

    response = client.post(TOKEN_URL, {"username": "li", "password": PASSWORD})

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert ApiToken.objects.count() == 0


@override_settings(RATE_LIMITS={"api_token": "3/minute"})
def test_token_endpoint_is_rate_limited_per_client_address(client: Client, db: None) -> None:
    make_user("li")
    for _ in range(3):
        assert client.post(TOKEN_URL, {"username": "li", "password": PASSWORD}).status_code == 200

    response = client.post(TOKEN_URL, {"username": "li", "password": PASSWORD})

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert ApiToken.objects.count() == 3
    other_address = client.post(TOKEN_URL, {"username": "li", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert other_address.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/nodes/1", "/api/v1/people"])
def test_unauthenticated_calls_answer_401_not_authenticated(client: Client, db: None, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 401
    assert set(response.json()) == {"code", "message"}
    assert response.json()["code"] == "not_authenticated"


def test_unknown_expired_and_revoked_tokens_answer_401(client: Client, db: None) -> None:
    user = make_user("li")
    expired, revoked = api_token_issue(user=user), api_token_issue(user=user)
    ApiToken.objects.filter(prefix=expired[3:11]).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    ApiToken.objects.filter(prefix=revoked[3:11]).update(revoked_at=clock.now())

    for token in ("gz_unknown", expired, revoked, "not-a-gongzhi-token"):
        response = client.get("/api/v1/me", **bearer(token))
        assert response.status_code == 401, token
        assert response.json()["code"] == "not_authenticated"


def test_token_of_a_deactivated_user_answers_401(client: Client, db: None) -> None:
    user = make_user("li")
    token = api_token_issue(user=user)
    user.is_active = False
    user.save()

    assert client.get("/api/v1/me", **bearer(token)).status_code == 401


def test_me_lists_active_roles_and_the_top_nodes_of_the_scope(client: Client, tree: SmallTree) -> None:
    user = make_user("wang", role=Role.GRID_WORKER, node=tree.grid_a)
    user.display_name = "王网格"
    user.save()
    today = clock.today()
    user.role_assignments.create(role=Role.BUILDING_LEADER, node=tree.building_b, starts_on=today)
    user.role_assignments.create(  # expired yesterday: neither listed nor in scope
        role=Role.COMMUNITY_STAFF,
        node=tree.community,
        starts_on=today - dt.timedelta(days=30),
        ends_on=today - dt.timedelta(days=1),
    )
    user.role_assignments.create(  # starts tomorrow
        role=Role.SUBDISTRICT_STAFF, node=tree.subdistrict, starts_on=today + dt.timedelta(days=1)
    )
    committee = Organization.objects.create(
        code="KXL-RC", name="奎星楼居委会", kind=OrganizationKind.RESIDENTS_COMMITTEE
    )
    committee.nodes.add(tree.household_a2)
    user.role_assignments.create(role=Role.VOLUNTEER, organization=committee, starts_on=today)
    client.force_login(user)

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"id": user.pk, "username": "wang", "display_name": "王网格"}
    assert body["roles"] == [
        {
            "role": "grid_worker",
            "role_label": "网格员",
            "node_id": tree.grid_a.pk,
            "organization_id": None,
            "starts_on": "2020-01-01",
            "ends_on": None,
        },
        {
            "role": "building_leader",
            "role_label": "楼栋长",
            "node_id": tree.building_b.pk,
            "organization_id": None,
            "starts_on": today.isoformat(),
            "ends_on": None,
        },
        {
            "role": "volunteer",
            "role_label": "志愿者",
            "node_id": None,
            "organization_id": committee.pk,
            "starts_on": today.isoformat(),
            "ends_on": None,
        },
    ]
    # A volunteer sees no network: the scope is the grid and the building only.
    assert body["scope_node_ids"] == [tree.grid_a.pk, tree.building_b.pk]


def test_me_of_a_user_without_roles_has_an_empty_scope(client: Client, db: None) -> None:
    client.force_login(make_user("li"))

    body = client.get("/api/v1/me").json()

    assert body["roles"] == []
    assert body["scope_node_ids"] == []


def test_answers_keep_chinese_readable(client: Client, tree: SmallTree) -> None:
    client.force_login(make_user(role=Role.GRID_WORKER, node=tree.grid_a))

    response = client.get(f"/api/v1/nodes/{tree.grid_a.pk}")

    assert "第一网格".encode() in response.content


def test_openapi_lists_every_endpoint_with_its_answers(client: Client, db: None) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    spec = response.json()
    paths = spec["paths"]
    assert set(paths) >= {
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/nodes/{node_id}",
        "/api/v1/nodes/{node_id}/children",
        "/api/v1/people",
        "/api/v1/people/{person_id}",
        "/api/v1/people/{person_id}/reveal",
    }
    assert set(paths["/api/v1/auth/token"]["post"]["responses"]) == {"200", "401", "422", "429"}
    assert paths["/api/v1/auth/token"]["post"]["requestBody"]["content"].keys() == {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    assert "404" in paths["/api/v1/nodes/{node_id}"]["get"]["responses"]
    schemas = spec["components"]["schemas"]
    assert {"NodeOut", "PersonOut", "MeOut", "ErrorOut", "TokenOut", "RevealOut"} <= set(schemas)
    assert set(spec["components"]["securitySchemes"]) == {"BearerTokenAuth", "SessionCsrfAuth"}
    assert "共治".encode() in response.content


def test_interactive_docs_render(client: Client, db: None) -> None:
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content
    # Served from our own static files: the docs work on a closed network.
    assert b"/static/ninja/swagger-ui-bundle.js" in response.content
    assert b"cdn." not in response.content
