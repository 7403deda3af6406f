from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.core.testing import PASSWORD, SmallTree, make_user

pytestmark = pytest.mark.django_db


def _post_login(client: Client, username: str, password: str, next_url: str = "") -> object:
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data)


def test_login_page_renders_a_labelled_form(client: Client) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html


def test_login_with_right_password_goes_to_next(client: Client, tree: SmallTree) -> None:
    user = make_user("wang", role=Role.GRID_WORKER, node=tree.grid_a)
    response = _post_login(client, "wang", PASSWORD, next_url="/people/")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response["Location"] == "/people/"  # type: ignore[index]
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_ignores_unsafe_next(client: Client, tree: SmallTree) -> None:
    make_user("wang", role=Role.GRID_WORKER, node=tree.grid_a)
    response = _post_login(client, "wang", PASSWORD, next_url="https://evil.example/")
    assert response["Location"] == reverse("territory:home")  # type: ignore[index]


def test_wrong_password_shows_generic_error_and_logs_nobody_in(client: Client, tree: SmallTree) -> None:
    make_user("wang", role=Role.GRID_WORKER, node=tree.grid_a)
    response = _post_login(client, "wang", "wrong")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert 'role="alert"' in response.content.decode()  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session


def test_lockout_refuses_right_password_after_repeated_failures(client: Client, tree: SmallTree) -> None:
    make_user("wang", role=Role.GRID_WORKER, node=tree.grid_a)
    for _attempt in range(settings.LOGIN_FAILURE_LIMIT):
        _post_login(client, "wang", "wrong")
    response = _post_login(client, "wang", PASSWORD)
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert str(settings.LOGIN_LOCKOUT_MINUTES) in response.content.decode()  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session


def test_logout_requires_post(client: Client, tree: SmallTree) -> None:
    client.force_login(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_header_shows_name_roles_and_permitted_nav(client: Client, tree: SmallTree) -> None:
    client.force_login(make_user("li-grid", role=Role.GRID_WORKER, node=tree.grid_a))
    html = client.get(reverse("territory:home")).content.decode()
    assert "li-grid" in html
    assert reverse("people:search") in html
    assert reverse("audit:list") not in html
    assert reverse("admin:index") not in html
    assert 'hx-headers=\'{"X-CSRFToken": ' in html


def test_auditor_nav_has_audit_log(client: Client, tree: SmallTree) -> None:
    client.force_login(make_user(role=Role.AUDITOR, node=tree.district))
    html = client.get(reverse("territory:home")).content.decode()
    assert reverse("audit:list") in html


@pytest.mark.django_db
def test_the_login_form_is_rate_limited_per_address(client, settings):
    settings.RATE_LIMITS = {"login": "3/minute"}
    for index in range(3):
        response = client.post("/accounts/login/", {"username": f"nobody{index}", "password": "x"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "nobody9", "password": "x"})
    assert response.status_code == 429
