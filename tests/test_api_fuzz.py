"""Fuzz the whole /api/v1 from its own OpenAPI schema (schemathesis): no answer is a server
error, and every answer has a documented status and matches its documented shape.

Each operation is called as a superuser and as a grid worker, with valid and invalid input
(schemathesis' positive and negative modes); path parameters are often swapped for ids and
ticket numbers that exist, so the calls reach past the 404s. A bounded number of examples per
operation keeps the run under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.services import api_token_issue
from gongzhi.config.api import api
from gongzhi.core.testing import SmallTree, make_user
from gongzhi.territory.models import Organization, OrganizationKind
from gongzhi.tickets.models import Channel
from gongzhi.tickets.services.intake import TicketInput, ticket_submit

EXAMPLES_PER_OPERATION = 12


def _documented(spec: dict[str, Any]) -> dict[str, Any]:
    """The API's spec, with the answers ninja gives before an operation runs on the operations
    that do not list them: 422 for an invalid parameter or body (config/api.py makes it
    {code, message, errors}) and 400 for a body that is not JSON at all."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    for path in spec["paths"].values():
        for operation in path.values():
            responses = operation["responses"]
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault("422", {"description": "Invalid input", **error})
            if operation.get("requestBody"):
                responses.setdefault("400", {"description": "Not JSON", **error})
    return spec


schema = schemathesis.openapi.from_dict(_documented(api.get_openapi_schema()))
schema.app = WSGIHandler()

# Ids and numbers that exist in the current test's data, for the path parameters below.
KNOWN: dict[str, list[Any]] = {}
_PATH_KNOWN = {
    "number": "numbers",
    "node_id": "node_ids",
    "person_id": "person_ids",
}


@schema.hook
def flatmap_path_parameters(
    context: Any, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Half of the time, each known path parameter names a row that exists."""
    options: dict[str, st.SearchStrategy[Any]] = {}
    for name, value in (path_parameters or {}).items():
        known = KNOWN.get(_PATH_KNOWN.get(name, ""), [])
        options[name] = st.one_of(st.just(value), st.sampled_from(known)) if known else st.just(value)
    return st.fixed_dictionaries(options)


@pytest.fixture
def _connection_kept() -> Iterator[None]:
    """The WSGI handler closes the database connection after each request (as in production);
    the test's transaction lives on it, so keep it open, as Django's test Client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(tree: SmallTree, _connection_kept: None) -> Iterator[dict[str, str]]:
    department = Organization.objects.create(code="cgj", name="城管局", kind=OrganizationKind.DEPARTMENT)
    tickets = [
        ticket_submit(
            actor=None,
            data=TicketInput(
                node_id=node.pk,
                category_code=category,
                description=text,
                channel=Channel.WEB,
                reporter_phone="13700001111",
            ),
        )
        for node, category, text in (
            (tree.household_a1, "stairwell-light", "3号楼2单元楼道灯不亮"),
            (tree.household_a2, "stairwell-light", "三号楼二单元楼道的灯坏了"),
            (tree.household_b1, "drain-blocked", "下水道堵了，返味"),
        )
    ]
    KNOWN.update(
        numbers=[ticket.number for ticket in tickets],
        node_ids=[tree.grid_a.pk, tree.building_a.pk, tree.household_a1.pk, tree.household_b1.pk],
        person_ids=[tree.resident_a.pk, tree.resident_b.pk],
        department_ids=[department.pk],
    )
    admin = User.objects.create_superuser("fuzz-admin", "admin@example.org", "x")
    worker = make_user("fuzz-worker", role=Role.GRID_WORKER, node=tree.grid_a)
    yield {"superuser": api_token_issue(user=admin), "grid_worker": api_token_issue(user=worker)}
    KNOWN.clear()


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("who", ["superuser", "grid_worker"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_without_server_errors_and_as_documented(
    case: Any, tokens: dict[str, str], who: str
) -> None:
    response = case.call(headers={"Authorization": f"Bearer {tokens[who]}"})
    case.validate_response(response, checks=CHECKS)
    # Nothing the API answers spells a reporter's phone whole.
    assert "13700001111" not in response.text


def test_every_ticket_operation_is_in_the_schema() -> None:
    paths = set(api.get_openapi_schema()["paths"])

    assert {
        "/api/v1/tickets",
        "/api/v1/tickets/{number}",
        "/api/v1/tickets/{number}/actions/{action}",
        "/api/v1/tickets/{number}/whistle",
        "/api/v1/tickets/categories",
        "/api/v1/tickets/categories/suggest",
        "/api/v1/tickets/similar",
    } <= paths


NUL_REQUESTS = [
    ("get", "/api/v1/tickets/%00", None),
    ("get", "/api/v1/tickets?q=%00", None),
    ("get", "/api/v1/tickets/similar?text=%00&node=1", None),
    ("get", "/api/v1/tickets/categories/suggest?text=%00", None),
    ("post", "/api/v1/tickets", {"channel": "phone", "node_id": 1, "category": "x", "description": "a\x00b"}),
    ("post", "/api/v1/tickets/1/actions/comment", {"note": "a\x00b"}),
    ("get", "/api/v1/people?q=%00", None),
    ("post", "/api/v1/auth/token", {"username": "a\x00b", "password": "x"}),
]


@pytest.mark.parametrize(("method", "url", "body"), NUL_REQUESTS)
def test_a_nul_character_is_refused_not_a_server_error(
    tokens: dict[str, str], method: str, url: str, body: dict[str, Any] | None
) -> None:
    """PostgreSQL refuses NUL in text: a request carrying one must not become a server error."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['superuser']}", raise_request_exception=False)
    response = client.get(url) if method == "get" else client.post(url, body, content_type="application/json")

    assert response.status_code < 500, response.content[:300]
