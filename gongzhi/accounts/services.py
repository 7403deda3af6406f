"""Writes about users: role assignments (given, ended, counted), login with lockout, API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from gongzhi.accounts.models import ApiToken, LoginAttempt, Role, RoleAssignment, User
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.accounts.selectors import building_leaders_counted_on, role_overlapping
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.territory.models import Node, Organization, path_and_ancestors
from gongzhi.territory.services import stats_adjust


class LockedOut(ApplicationError):
    code = "locked_out"
    status = 429


class BadCredentials(ApplicationError):
    code = "bad_credentials"
    status = 401


def _role_paths(*, node: Node | None, organization: Organization | None) -> list[str]:
    """The paths a role's holder acts on: its node, or every node its organization serves."""
    if node is not None:
        return [node.path]
    assert organization is not None
    return list(organization.nodes.values_list("path", flat=True))


def _ensure_no_overlap(
    assignment: RoleAssignment, *, starts_on: dt.date, ends_on: dt.date | None, exclude_id: int | None = None
) -> None:
    """One user holds one role on one place once at a time: two overlapping periods would be
    counted twice (building leaders) and could never be told apart when one is ended."""
    clash = role_overlapping(
        user_id=assignment.user_id,
        role=assignment.role,
        node_id=assignment.node_id,
        organization_id=assignment.organization_id,
        starts_on=starts_on,
        ends_on=ends_on,
        exclude_id=exclude_id,
    )
    if clash is not None:
        raise ValidationFailed(role_overlap_message(clash), code="role_overlaps")


def role_overlap_message(clash: RoleAssignment) -> str:
    return _("%(user)s already holds this role there from %(date)s.") % {
        "user": clash.user,
        "date": clash.starts_on.isoformat(),
    }


# Roles whose powers reach beyond the place they are held on (the ticket categories of the whole
# installation, the audit log): given only by superusers and district administrators.
ELEVATED_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.AUDITOR})


def may_give_role(actor: Actor, role: Role) -> bool:
    return actor.is_superuser or role not in ELEVATED_ROLES or Role.DISTRICT_ADMIN in actor.roles


def _ensure_may_give(actor: Actor, user_id: int, role: Role) -> None:
    """Nobody but a superuser gives themselves a role (a secretary would otherwise make herself
    anything on her community), and elevated roles come from district administrators only."""
    if actor.is_superuser:
        return
    if actor.user is not None and actor.user.pk == user_id:
        raise ValidationFailed(
            _("Nobody can give themselves a role: ask another administrator of the place."),
            code="own_role",
        )
    if not may_give_role(actor, role):
        raise ValidationFailed(
            _("Only district administrators can give the role of %(role)s.") % {"role": role.label},
            code="elevated_role",
        )


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
    else:
        organization = Organization.objects.visible_to(actor).filter(pk=int(organization_id or 0)).first()
        if organization is None:
            raise NotFound()
    for path in _role_paths(node=node, organization=organization):
        actor.ensure_can(Perm.MANAGE_ROLES, path)
    _ensure_may_give(actor, user_id, role)
    # Locked: two assignments of the same user are checked for overlap one after the other.
    user = User.objects.select_for_update().get(pk=user_id)
    starts_on = starts_on or clock.today()
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed(_("A role cannot end before it starts."), code="bad_dates")
    assignment = RoleAssignment(
        user=user, role=role, node=node, organization=organization, starts_on=starts_on, ends_on=ends_on
    )
    _ensure_no_overlap(assignment, starts_on=starts_on, ends_on=ends_on)
    assignment.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=assignment,
        node_path=node.path if node else "",
        changes={
            "user": user.username,
            "role": role,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat() if ends_on else None,
        },
    )
    if role == Role.BUILDING_LEADER and node is not None:
        building_leader_counts_sync(user_id=user.pk, node_id=node.pk)
    return assignment


@transaction.atomic
def role_end(*, actor: Actor, assignment_id: int, ends_on: dt.date, reason: str) -> RoleAssignment | None:
    """End a role on `ends_on` (inclusive: the last day it is held), or move its end date.

    The actor must manage roles on every place the role covers; a reason is required and goes
    to the audit log with the old and new dates. Ending a role before the day it starts
    withdraws it (it was never, or only today, in force): the row is deleted, the audit row
    keeps it; returns None then. Building leaders' counts follow at once."""
    today = clock.today()
    assignment = (
        RoleAssignment.objects.select_for_update(of=("self",))  # node or organization: outer joins
        .select_related("user", "node", "organization")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None:
        raise NotFound()
    paths = _role_paths(node=assignment.node, organization=assignment.organization)
    if not any(actor.can(Perm.VIEW_NETWORK, path) for path in paths):
        raise NotFound()
    for path in paths:
        actor.ensure_can(Perm.MANAGE_ROLES, path)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed(_("Give a reason for ending the role."), code="reason_required")
    if ends_on == assignment.ends_on:
        raise ValidationFailed(_("The role already ends on that day."), code="unchanged")
    node_path = assignment.node.path if assignment.node else (paths[0] if paths else "")
    before: dict[str, Any] = {
        "user": assignment.user.username,
        "role": assignment.role,
        "starts_on": assignment.starts_on.isoformat(),
        "ends_on": [assignment.ends_on.isoformat() if assignment.ends_on else None, ends_on.isoformat()],
    }
    if ends_on < assignment.starts_on:
        if assignment.starts_on < today:
            raise ValidationFailed(
                _("This role has been held since %(date)s: it cannot end before that day.")
                % {"date": assignment.starts_on.isoformat()},
                code="bad_dates",
            )
        _role_withdraw(actor, assignment, reason=reason[:500], node_path=node_path, changes=before)
        return None
    _ensure_no_overlap(assignment, starts_on=assignment.starts_on, ends_on=ends_on, exclude_id=assignment.pk)
    assignment.ends_on = ends_on
    assignment.save(update_fields=["ends_on", "updated_at"])  # post_save: caches of routes forget
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=assignment,
        node_path=node_path,
        reason=reason[:500],
        changes=before,
    )
    if assignment.role == Role.BUILDING_LEADER and assignment.node_id is not None:
        building_leader_counts_sync(user_id=assignment.user_id, node_id=assignment.node_id)
    return assignment


def _role_withdraw(
    actor: Actor, assignment: RoleAssignment, *, reason: str, node_path: str, changes: dict[str, Any]
) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        target=assignment,
        node_path=node_path,
        reason=reason,
        changes=changes,
    )
    if assignment.counted_in_stats:
        assert assignment.node is not None
        stats_adjust(assignment.node.ancestor_paths, building_leaders=-1)
    user_id, node_id = assignment.user_id, assignment.node_id
    assignment.delete()
    if assignment.role == Role.BUILDING_LEADER and node_id is not None:
        building_leader_counts_sync(user_id=user_id, node_id=node_id)  # another period may count now


@dataclass(frozen=True)
class CountsSync:
    counted: int  # assignments that started to count
    uncounted: int  # assignments that stopped counting


def building_leader_counts_sync(
    *, day: dt.date | None = None, user_id: int | None = None, node_id: int | None = None
) -> CountsSync:
    """Make NodeStats.building_leaders count exactly the assignments `building_leaders_counted_on`
    names for `day` (today): a future role that has started begins to count, an ended one stops.

    Idempotent and safe to run concurrently: each assignment's flag is flipped by a compare-and-set
    and its ±1 applied in the same transaction, so a change is applied once, however often this
    runs; a missed run is made up by the next. `user_id`/`node_id` narrow it to one pair (the
    services call it so after each write); the hourly task runs it for everyone."""
    day = day or clock.today()
    leaders = RoleAssignment.objects.filter(role=Role.BUILDING_LEADER, node__isnull=False)
    if user_id is not None:
        leaders = leaders.filter(user_id=user_id)
    if node_id is not None:
        leaders = leaders.filter(node_id=node_id)
    wanted = dict(building_leaders_counted_on(day, leaders))
    counted = dict(leaders.filter(counted_in_stats=True).values_list("pk", "node__path"))
    changes = [(pk, path, False) for pk, path in counted.items() if pk not in wanted]
    changes += [(pk, path, True) for pk, path in wanted.items() if pk not in counted]
    done = {True: 0, False: 0}
    for pk, path, count in sorted(changes):
        with transaction.atomic():
            flipped = RoleAssignment.objects.filter(pk=pk, counted_in_stats=not count).update(
                counted_in_stats=count
            )
            if flipped == 1:  # another run may have flipped it first: then it applied the change
                stats_adjust(path_and_ancestors(path), building_leaders=1 if count else -1)
                done[count] += 1
    return CountsSync(counted=done[True], uncounted=done[False])


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
