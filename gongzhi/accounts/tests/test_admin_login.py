"""The back office's login (/admin/login/) goes through the staff login's checks: lockout after
repeated failures, the per-address rate limit, and an audit row for every failure."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import LoginAttempt, Role, User
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.testing import PASSWORD, SmallTree, make_user

pytestmark = pytest.mark.django_db


def _admin_login(client: Client, username: str, password: str) -> object:
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": reverse("admin:index")}
    )


def _staff_user(tree: SmallTree, username: str = "back-office") -> User:
    user = make_user(username, role=Role.COMMUNITY_SECRETARY, node=tree.community)
    user.is_staff = True
    user.save()
    return user


def test_a_staff_user_logs_in_to_the_admin_and_it_is_audited(client: Client, tree: SmallTree) -> None:
    user = _staff_user(tree)
    response = _admin_login(client, "back-office", PASSWORD)
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert client.session["_auth_user_id"] == str(user.pk)
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN, actor=user).get()
    assert entry.changes == {"via": "admin"}


def test_twelve_wrong_admin_logins_lock_the_username_and_are_audited(client: Client, tree: SmallTree) -> None:
    _staff_user(tree)
    statuses = [_admin_login(client, "back-office", f"wrong-{n}").status_code for n in range(12)]  # type: ignore[attr-defined]
    limit = settings.LOGIN_FAILURE_LIMIT
    assert statuses == [200] * limit + [429] * (12 - limit)
    assert (
        AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, target_repr="back-office").count() == limit
    )
    assert (
        AuditEntry.objects.filter(action=AuditAction.LOCKED_OUT, target_repr="back-office").count()
        == 12 - limit
    )
    # Locked: the right password is refused too, on the admin and on the staff login alike.
    response = _admin_login(client, "back-office", PASSWORD)
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert str(settings.LOGIN_LOCKOUT_MINUTES) in response.content.decode()  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session
    staff_web = client.post(reverse("accounts:login"), {"username": "back-office", "password": PASSWORD})
    assert staff_web.status_code == 429


def test_failures_on_the_staff_login_lock_the_admin_login_too(client: Client, tree: SmallTree) -> None:
    _staff_user(tree)
    for _attempt in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "back-office", "password": "wrong"})
    assert _admin_login(client, "back-office", PASSWORD).status_code == 429  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session


def test_the_admin_login_shares_the_staff_logins_rate_limit_per_address(client: Client, settings) -> None:
    settings.RATE_LIMITS = {"login": "3/minute"}
    for index in range(2):
        assert (
            client.post(
                reverse("accounts:login"), {"username": f"nobody{index}", "password": "x"}
            ).status_code
            == 200
        )
    assert _admin_login(client, "nobody2", "x").status_code == 200  # type: ignore[attr-defined]
    assert _admin_login(client, "nobody3", "x").status_code == 429  # type: ignore[attr-defined]
    # The refused try never reached the password check: no attempt recorded for it.
    assert not LoginAttempt.objects.filter(username="nobody3").exists()


def test_a_user_without_is_staff_is_refused_like_a_wrong_password(client: Client, tree: SmallTree) -> None:
    make_user("grid-only", role=Role.GRID_WORKER, node=tree.grid_a)
    response = _admin_login(client, "grid-only", PASSWORD)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, target_repr="grid-only").get()
    assert entry.changes == {"via": "admin", "not_staff": True}
    assert not AuditEntry.objects.filter(action=AuditAction.LOGIN).exists()
    assert LoginAttempt.objects.filter(username="grid-only", succeeded=False).count() == 1
