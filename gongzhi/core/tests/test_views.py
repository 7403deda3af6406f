from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.core.testing import SmallTree, make_user

pytestmark = pytest.mark.django_db


def test_server_error_page_renders_without_request_context() -> None:
    html = render_to_string("500.html")
    assert "<h1>" in html


def test_not_found_inside_htmx_request_is_an_inline_partial(client: Client, tree: SmallTree) -> None:
    client.force_login(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    response = client.post(
        reverse("people:reveal", args=[tree.resident_b.pk]),
        {"field": "phone", "reason": "走访"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 404
    assert response.templates[0].name == "_error_inline.html"
    assert "<html" not in response.content.decode()


def test_pages_are_chinese_by_default_and_english_on_request(client: Client, tree: SmallTree) -> None:
    client.force_login(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    assert '<html lang="zh-Hans"' in client.get(reverse("territory:home")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert '<html lang="en"' in client.get(reverse("territory:home")).content.decode()
