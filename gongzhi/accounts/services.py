"""Writes about users: role assignments, login with lockout, API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from gongzhi.accounts.models import ApiToken, LoginAttempt, Role, RoleAssignment, User
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.territory.models import Node, Organization
from gongzhi.territory.services import stats_adjust


class LockedOut(ApplicationError):
    code = "locked_out"
    status = 429


class BadCredentials(ApplicationError):
    code = "bad_credentials"
    status = 401


@transaction.atomic
def role_assign(
    *,
    actor: Actor,
    user_id: int,
    role: Role,
    node_id: int | None = None,
    organization_id: int | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> RoleAssignment:
    """Give a user a role on a node (or organization). The actor must manage roles there."""
    if (node_id is None) == (organization_id is None):
        raise ValidationFailed(
            _("A role is held on a node or on an organization, not both."), code="bad_target"
        )
    node = organization = None
    if node_id is not None:
        node = Node.objects.visible_to(actor).filter(pk=node_id).first()
        if node is None:
            raise NotFound()
        actor.ensure_can(Perm.MANAGE_ROLES, node.path)
    else:
        organization = Organization.objects.visible_to(actor).filter(pk=int(organization_id or 0)).first()
        if organization is None:
            raise NotFound()
        for path in organization.nodes.values_list("path", flat=True):
            actor.ensure_can(Perm.MANAGE_ROLES, path)
    user = User.objects.get(pk=user_id)
    starts_on = starts_on or clock.today()
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed(_("A role cannot end before it starts."), code="bad_dates")
    assignment = RoleAssignment.objects.create(
        user=user, role=role, node=node, organization=organization, starts_on=starts_on, ends_on=ends_on
    )
    if role == Role.BUILDING_LEADER and node is not None and starts_on <= clock.today():
        stats_adjust(node.ancestor_paths, building_leaders=1)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=assignment,
        node_path=node.path if node else "",
        changes={"user": user.username, "role": role},
    )
    return assignment


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR")


def login_is_locked(username: str, *, now: dt.datetime | None = None) -> bool:
    """Locked when the last N attempts within the window all failed."""
    now = now or clock.now()
    window_start = now - dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    recent = list(
        LoginAttempt.objects.filter(username=username.lower(), at__gte=window_start)
        .order_by("-at")
        .values_list("succeeded", flat=True)[: settings.LOGIN_FAILURE_LIMIT]
    )
    return len(recent) >= settings.LOGIN_FAILURE_LIMIT and not any(recent)


def login_check(
    *, username: str, password: str, request: HttpRequest | None = None, admin: bool = False
) -> User:
    """Authenticate with lockout: after N failures in the window, even the right password is
    refused until the window passes. Every attempt is recorded; failures are audited.

    `admin`: the back office's login. Its user must also be `is_staff`; a user without it is
    refused like a wrong password (and counted as a failure), and audit rows say "admin"."""
    now = clock.now()
    key = (username or "").strip().lower()
    ip = _client_ip(request)
    via = {"via": "admin"} if admin else None
    if login_is_locked(key, now=now):
        audit_record(
            actor=None,
            action=AuditAction.LOCKED_OUT,
            target_type="accounts.user",
            target_repr=key,
            ip_address=ip,
            changes=via,
        )
        raise LockedOut(
            _("Too many failed attempts. Try again in %(minutes)d minutes.")
            % {"minutes": settings.LOGIN_LOCKOUT_MINUTES}
        )
    user = authenticate(request, username=username, password=password)
    allowed = user is not None and (not admin or user.is_staff)
    LoginAttempt.objects.create(username=key, ip_address=ip, succeeded=allowed, at=now)
    if not allowed:
        audit_record(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            target_type="accounts.user",
            target_repr=key,
            ip_address=ip,
            changes={**via, "not_staff": True} if via and user is not None else via,
        )
        raise BadCredentials(_("The username or password is wrong."))
    audit_record(actor=user, action=AuditAction.LOGIN, target=user, ip_address=ip, changes=via)
    return user  # type: ignore[return-value]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user: User) -> str:
    """Create a bearer token for `user` and return it; only its hash is kept."""
    token = "gz_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=_token_hash(token),
        prefix=token[3:11],
        expires_at=clock.now() + dt.timedelta(days=settings.API_TOKEN_DAYS),
    )
    audit_record(actor=user, action=AuditAction.TOKEN, target=user)
    return token


def api_token_user(token: str) -> User | None:
    """The active user behind a bearer token, or None (expired, revoked, unknown)."""
    now = clock.now()
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_token_hash(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    # Touch at most once a minute: avoids a write per request.
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
