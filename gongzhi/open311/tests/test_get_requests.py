"""GET requests, requests/{id} and tokens/{token}: no key needed, no personal data, the spec's filters."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.testing import make_user
from gongzhi.open311 import selectors
from gongzhi.open311.tests.conftest import BASE, Setup, form, json_of, post, xml_of
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.services.handling import ticket_accept, ticket_reject, ticket_resolve

NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai

PERSONAL = ("张秀英", "秀英", "13912345678", "zhang@example.org", "dev-secret-1", "acct-secret-1")


def file(client: Client, setup: Setup, **overrides: str) -> str:
    (answer,) = json_of(post(client, **form(setup, **overrides)))
    return str(answer["service_request_id"])


def numbers(response: object) -> list[str]:
    return [request["service_request_id"] for request in json_of(response)]


@time_machine.travel(NOW, tick=False)
def test_gets_never_show_the_submitters_name_phone_or_email(client: Client, setup: Setup) -> None:
    number = file(
        client,
        setup,
        first_name="秀英",
        last_name="张",
        phone="13912345678",
        email="zhang@example.org",
        device_id="dev-secret-1",
        account_id="acct-secret-1",
        # People write their details into the text too.
        description="我是张秀英，电话13912345678，邮箱zhang@example.org，楼顶漏雨",
    )
    token = Ticket.objects.get().follow_token
    worker = make_user("worker", role=Role.GRID_WORKER, node=setup.tree.grid_a)
    ticket_accept(
        actor=resolve_actor(worker), ticket_id=Ticket.objects.get().pk, note="已联系张秀英 13912345678"
    )
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")  # no key, no session
    for url in (
        "requests.json",
        "requests.xml",
        f"requests/{number}.json",
        f"requests/{number}.xml",
        f"requests.json?service_request_id={number}",
    ):
        response = anonymous.get(f"{BASE}/{url}")
        assert response.status_code == 200, url
        body = response.content.decode()
        assert number in body
        for secret in (*PERSONAL, token):
            assert secret not in body, (url, secret)
    (request,) = json_of(anonymous.get(f"{BASE}/requests/{number}.json"))
    assert request["description"] == "我是张**，电话139****5678，邮箱***@***，楼顶漏雨"
    assert request["status_notes"] == "已联系张** 139****5678"


@time_machine.travel(NOW, tick=False)
def test_a_request_shows_status_agency_times_and_place(client: Client, setup: Setup) -> None:
    number = file(client, setup)
    (request,) = json_of(client.get(f"{BASE}/requests/{number}.json"))
    assert request["status"] == "open"
    assert request["status_notes"] is None
    assert request["agency_responsible"] == "第一网格"
    assert request["service_notice"] == "Response within 2 hours and resolution within 3 days."
    assert request["requested_datetime"] == "2026-11-25T10:00:00+08:00"
    assert request["updated_datetime"] == "2026-11-25T10:00:00+08:00"
    assert request["expected_datetime"] == "2026-11-28T10:00:00+08:00"
    # Published at the building: a door would tell strangers which flat complained.
    assert request["address"] == "1号楼, 春都华府, 奎星楼社区, 鼓楼街道, 兖州区"
    assert request["address_id"] == setup.tree.building_a.code
    assert "101" not in json.dumps(request, ensure_ascii=False)
    # The household has no point of its own: its building's.
    assert (request["lat"], request["long"]) == (35.55, 116.83)
    assert "media_url" not in request  # no public photo address exists


def test_closed_requests_carry_the_public_note(client: Client, setup: Setup) -> None:
    worker = resolve_actor(make_user("worker", role=Role.GRID_WORKER, node=setup.tree.grid_a))
    with time_machine.travel(NOW, tick=False):
        resolved, rejected, open_one = (
            file(client, setup, description=f"第{n}处漏雨，请来看看") for n in range(3)
        )
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        ticket = Ticket.objects.get(number=resolved)
        ticket_accept(actor=worker, ticket_id=ticket.pk)
        ticket_resolve(actor=worker, ticket_id=ticket.pk, note="已修补防水层")
        ticket_reject(actor=worker, ticket_id=Ticket.objects.get(number=rejected).pk, reason="物业维修范围")
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):  # inside the default 90 days
        by_number = {
            request["service_request_id"]: request for request in json_of(client.get(f"{BASE}/requests.json"))
        }
        assert by_number[resolved]["status"] == "closed"
        assert by_number[resolved]["status_notes"] == "已修补防水层"
        assert by_number[resolved]["updated_datetime"] == "2026-11-25T11:00:00+08:00"
        assert by_number[rejected]["status"] == "closed"
        assert by_number[rejected]["status_notes"] == "物业维修范围"
        assert by_number[open_one]["status"] == "open"
        assert numbers(client.get(f"{BASE}/requests.json?status=closed")) == [rejected, resolved]
        assert numbers(client.get(f"{BASE}/requests.json?status=open")) == [open_one]
        assert len(numbers(client.get(f"{BASE}/requests.json?status=open,closed"))) == 3
        # XML carries the same, and is well-formed.
        root = xml_of(client.get(f"{BASE}/requests.xml?status=closed"))
        assert [request.findtext("status") for request in root.iter("request")] == ["closed", "closed"]


def test_the_default_window_is_the_last_90_days(client: Client, setup: Setup) -> None:
    with time_machine.travel(NOW - dt.timedelta(days=100), tick=False):
        old = file(client, setup, description="一百天前的漏雨")
    with time_machine.travel(NOW - dt.timedelta(days=10), tick=False):
        recent = file(client, setup, description="十天前的漏雨")
    with time_machine.travel(NOW, tick=False):
        assert numbers(client.get(f"{BASE}/requests.json")) == [recent]
        start = (NOW - dt.timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
        end = (NOW - dt.timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert numbers(client.get(f"{BASE}/requests.json?start_date={start}&end_date={end}")) == [old]
        assert numbers(client.get(f"{BASE}/requests.json?start_date={start}")) == [old]
        assert numbers(client.get(f"{BASE}/requests.json?end_date=2026-11-20T10:00:00%2B08:00")) == [recent]
        # service_request_id overrides every other argument, the window too.
        assert numbers(
            client.get(f"{BASE}/requests.json?service_request_id={old},{recent}&status=closed")
        ) == [
            recent,
            old,
        ]
        assert client.get(f"{BASE}/requests/{old}.json").status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
            "start_date and end_date may not span more than 90 days.",
        ),
        (
            "start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
            "end_date must not be before start_date.",
        ),
        ("start_date=yesterday", "start_date must be a W3C date and time, e.g. 2010-01-01T00:00:00Z."),
        ("status=pending", "status must be open or closed (comma-separated)."),
    ],
)
def test_bad_filters_answer_400(client: Client, setup: Setup, query: str, message: str) -> None:
    response = client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == 400
    assert json_of(response) == [{"code": 400, "description": message}]


@time_machine.travel(NOW, tick=False)
def test_service_code_filters_and_the_count_is_capped(
    client: Client, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaks = [file(client, setup, description=f"第{n}处漏雨，请来看看") for n in range(3)]
    gas = file(client, setup, service_code="gas-smell", description="楼道里有燃气味")
    assert numbers(client.get(f"{BASE}/requests.json?service_code=gas-smell")) == [gas]
    assert len(numbers(client.get(f"{BASE}/requests.json?service_code=gas-smell,leaky-roof"))) == 4
    assert (
        len(numbers(client.get(f"{BASE}/requests.json?service_code=gas-smell&service_code=leaky-roof"))) == 4
    )
    monkeypatch.setattr(selectors, "MAX_REQUESTS", 2)
    assert numbers(client.get(f"{BASE}/requests.json")) == [gas, leaks[2]]


def test_the_default_cap_is_1000() -> None:
    assert selectors.MAX_REQUESTS == 1000
    assert selectors.WINDOW.days == 90


def test_unknown_request_token_and_service_answer_404(client: Client, setup: Setup) -> None:
    for url in ("requests/202601010000001.json", "tokens/no-such-token.json", "services/no-such.json"):
        response = client.get(f"{BASE}/{url}")
        assert response.status_code == 404, url
        assert json_of(response)[0]["code"] == 404
    root = xml_of(client.get(f"{BASE}/requests/202601010000001.xml"))
    assert root.tag == "errors"
    assert root.findtext("error/description") == "service_request_id 202601010000001 was not found."
    assert xml_of(client.get(f"{BASE}/no/such/thing")).findtext("error/code") == "404"


def test_gets_need_no_key_whatever_the_keys_organization(client: Client, setup: Setup) -> None:
    """The key's organization scopes nothing on reads: every ticket is listed, keyless."""
    number = file(client, setup)
    Ticket.objects.filter(number=number).update(node=setup.tree.household_b1, grid=setup.tree.grid_b)
    assert numbers(Client().get(f"{BASE}/requests.json")) == [number]


@time_machine.travel(NOW, tick=False)
def test_query_count_does_not_grow_with_the_list(
    client: Client, setup: Setup, django_assert_max_num_queries: object
) -> None:
    for n in range(5):
        file(client, setup, description=f"第{n}处漏雨，请来看看")
    with django_assert_max_num_queries(3):  # type: ignore[operator]
        assert len(numbers(client.get(f"{BASE}/requests.json"))) == 5
