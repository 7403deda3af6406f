"""POST /api/v1/auth/token and GET /api/v1/me: who is calling, and what they may see."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from gongzhi.accounts.models import ApiToken, Role, RoleAssignment, User
from gongzhi.accounts.services import api_token_issue, login_check
from gongzhi.core import clock
from gongzhi.core.api_auth import actor_of
from gongzhi.core.api_schemas import AUTH_ERRORS, ErrorOut
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.ratelimit import client_ip, ensure_within_rate
from gongzhi.territory.selectors import scope_roots

router = Router(tags=["accounts"])


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1)


class TokenOut(Schema):
    token: str = Field(description="Send as `Authorization: Bearer <token>`. Shown only once.")
    expires_at: dt.datetime


class UserOut(Schema):
    id: int
    username: str
    display_name: str


class RoleOut(Schema):
    role: Role
    role_label: str
    node_id: int | None
    organization_id: int | None
    starts_on: dt.date
    ends_on: dt.date | None


class MeOut(Schema):
    user: UserOut
    roles: list[RoleOut]
    scope_node_ids: list[int] = Field(description="The nodes at the top of the caller's scope.")


# The body is read by hand (JSON or form), so the spec is told its shape here.
_TOKEN_BODY = {"schema": TokenIn.model_json_schema()}


def _credentials(request: HttpRequest) -> TokenIn:
    """Read `username` and `password` from a JSON body or from a form."""
    data: Any = request.POST
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            data = None
    username = data.get("username") if hasattr(data, "get") else None
    password = data.get("password") if hasattr(data, "get") else None
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise ValidationFailed(_("Send a username and a password."), code="credentials_required")
    return TokenIn(username=username[:150], password=password)


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Issue a bearer token",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": _TOKEN_BODY,
                "application/x-www-form-urlencoded": _TOKEN_BODY,
            },
        }
    },
)
def token_issue(request: HttpRequest) -> dict[str, Any]:
    """Exchange a username and password (JSON or form) for a token. Repeated failures lock the
    username (429 `locked_out`); too many requests from one address answer 429 `rate_limited`."""
    ensure_within_rate(name="api_token", key=client_ip(request) or "unknown")
    credentials = _credentials(request)
    user = login_check(username=credentials.username, password=credentials.password, request=request)
    token = api_token_issue(user=user)
    row = ApiToken.objects.filter(user=user, prefix=token[3:11]).only("expires_at").latest("pk")
    return {"token": token, "expires_at": row.expires_at}


def _active_roles(user: User) -> list[RoleAssignment]:
    return list(RoleAssignment.objects.active_on(clock.today()).filter(user=user).order_by("starts_on", "pk"))


@router.get("/me", response={200: MeOut, **AUTH_ERRORS}, summary="The caller, their roles and scope")
def me(request: HttpRequest) -> dict[str, Any]:
    actor = actor_of(request)
    user = actor.user
    assert user is not None  # authenticated by the API's auth
    return {
        "user": {"id": user.pk, "username": user.username, "display_name": user.display_name},
        "roles": [
            {
                "role": assignment.role,
                "role_label": str(Role(assignment.role).label),
                "node_id": assignment.node_id,
                "organization_id": assignment.organization_id,
                "starts_on": assignment.starts_on,
                "ends_on": assignment.ends_on,
            }
            for assignment in _active_roles(user)
        ],
        "scope_node_ids": list(scope_roots(actor=actor).values_list("pk", flat=True)),
    }
