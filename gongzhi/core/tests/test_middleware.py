"""NUL characters are refused at the door with 400, in queries, forms and JSON bodies."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "body", "content_type"),
    [
        ("get", "/api/v1/people?q=a%00b", None, None),
        ("post", "/api/v1/auth/token", '{"username": "a\\u0000b", "password": "x"}', "application/json"),
        ("post", "/accounts/login/", "username=a%00b&password=x", "application/x-www-form-urlencoded"),
    ],
)
def test_a_nul_character_is_a_bad_request(
    method: str, url: str, body: str | None, content_type: str | None
) -> None:
    client = Client()
    response = client.get(url) if method == "get" else client.post(url, body, content_type=content_type)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.json()["code"] == "invalid"


@pytest.mark.django_db
def test_ordinary_requests_pass() -> None:
    assert Client().get("/api/v1/people?q=%E5%BC%A0").status_code == 401
