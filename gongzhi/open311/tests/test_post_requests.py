"""POST requests.{json,xml}: the key, the arguments, the ticket it files, errors and retries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client, override_settings

from gongzhi.core.testing import superactor
from gongzhi.open311.models import Open311Key, Open311Submission
from gongzhi.open311.services import open311_key_revoke
from gongzhi.open311.tests.conftest import BASE, Setup, form, json_of, post, xml_of
from gongzhi.territory.models import NodeKind
from gongzhi.territory.services import node_create
from gongzhi.tickets.models import Channel, Ticket, TicketEvent
from gongzhi.tickets.workflow import TicketState

NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)  # a Wednesday, 10:00 in Shanghai


def only_error(response: object, status: int) -> str:
    assert response.status_code == status  # type: ignore[attr-defined]
    (error,) = json_of(response)
    assert error["code"] == status
    return str(error["description"])


@time_machine.travel(NOW, tick=False)
def test_it_files_a_ticket_on_the_api_channel(client: Client, setup: Setup) -> None:
    response = post(
        client,
        **form(
            setup,
            **{"attribute[room]": "bath", "attribute[signs][]": ["drip", "mould"]},
            first_name="秀英",
            last_name="张",
            phone="13912345678",
            email="zhang@example.org",
            device_id="dev-1",
            account_id="acct-1",
            media_url="https://img.example.org/1.jpg",
            jurisdiction_id="yanzhou.gov.cn",
        ),
    )
    assert response.status_code == 200
    (answer,) = json_of(response)
    ticket = Ticket.objects.get()
    assert answer["service_request_id"] == ticket.number
    assert "token" not in answer  # the id is returned, so no token (the specification)
    assert answer["account_id"] == "acct-1"
    assert (ticket.channel, ticket.state, ticket.node, ticket.grid) == (
        Channel.API,
        TicketState.SUBMITTED,
        setup.tree.household_a1,
        setup.tree.grid_a,
    )
    assert ticket.answers == {"floor": "6", "room": "bath", "signs": ["drip", "mould"]}
    assert (ticket.reporter_name, ticket.reporter_phone) == ("张秀英", "13912345678")
    assert ticket.reporter_user is None and ticket.entered_by is None
    submission = Open311Submission.objects.get()
    assert submission.ticket == ticket
    assert submission.key.organization == setup.organization
    assert (submission.email, submission.device_id, submission.media_url) == (
        "zhang@example.org",
        "dev-1",
        "https://img.example.org/1.jpg",
    )
    assert TicketEvent.objects.get(ticket=ticket).data["channel"] == "api"
    assert Open311Key.objects.get().last_used_at == NOW


def test_the_post_needs_no_csrf_token(setup: Setup) -> None:
    strict = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    assert post(strict, **form(setup)).status_code == 200


def test_an_xml_post_answers_in_xml(client: Client, setup: Setup) -> None:
    root = xml_of(post(client, "xml", **form(setup)))
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == Ticket.objects.get().number


@pytest.mark.parametrize(
    ("api_key", "message"),
    [
        (None, "api_key is missing -- can't proceed with create_request."),
        ("", "api_key is missing -- can't proceed with create_request."),
        ("o311_forged", "Invalid api_key received -- can't proceed with create_request."),
        ("gz_an-api-token-is-not-a-key", "Invalid api_key received -- can't proceed with create_request."),
    ],
)
def test_a_missing_or_wrong_key_is_refused_with_403(
    client: Client, setup: Setup, api_key: str | None, message: str
) -> None:
    assert only_error(post(client, **form(setup, api_key=api_key)), 403) == message
    assert not Ticket.objects.exists()


def test_a_revoked_key_is_refused_with_403(client: Client, setup: Setup) -> None:
    open311_key_revoke(actor=None, key_id=Open311Key.objects.get().pk)
    only_error(post(client, **form(setup)), 403)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"service_code": None}, "service_code was not provided."),
        ({"address_id": None}, "A location is required: lat and long, address_string or address_id."),
        ({"attribute[floor]": None}, "attribute[floor]: This question must be answered: 哪一层？"),
        ({"attribute[floor]": "six"}, "attribute[floor]: 哪一层？: Enter a number."),
        ({"attribute[room]": "attic"}, "attribute[room]: 哪个房间？: Choose from the listed answers."),
        (
            {"address_id": "NO-SUCH-NODE"},
            "address_id NO-SUCH-NODE is not a known compound, building, entrance or household.",
        ),
        (
            {"address_id": "KXL-G01"},
            "address_id KXL-G01 is not a known compound, building, entrance or household.",
        ),
        ({"address_id": None, "lat": "35.55"}, "lat and long must be sent together."),
        (
            {"address_id": None, "lat": "95", "long": "116.83"},
            "lat must be a number between -90 and 90 (WGS84).",
        ),
        (
            {"address_id": None, "lat": "1.0", "long": "1.0"},
            "No known address lies within 1000 m of lat/long; send an address_id.",
        ),
        ({"phone": "12345"}, "phone: Enter a valid mobile phone number, e.g. 13812345678."),
        ({"email": "not-an-address"}, "email: Not a valid e-mail address."),
        ({"media_url": "javascript:alert(1)"}, "media_url: Must be an http or https URL."),
        ({"description": "x" * 4001}, "description is limited to 4,000 characters."),
    ],
)
def test_missing_or_invalid_arguments_answer_400(
    client: Client, setup: Setup, overrides: dict[str, str | None], expected: str
) -> None:
    assert only_error(post(client, **form(setup, **overrides)), 400) == expected
    assert not Ticket.objects.exists()


def test_an_unknown_service_code_answers_404(client: Client, setup: Setup) -> None:
    assert (
        only_error(post(client, **form(setup, service_code="no-such")), 404)
        == "service_code no-such was not found."
    )


def test_several_errors_are_listed_together(client: Client, setup: Setup) -> None:
    response = post(
        client, **form(setup, email="bad", media_url="ftp://x.example.org/a", device_id="d" * 101)
    )
    assert response.status_code == 400
    assert {error["description"] for error in json_of(response)} == {
        "email: Not a valid e-mail address.",
        "media_url: Must be an http or https URL.",
        "device_id: At most 100 characters.",
    }


def test_lat_long_picks_the_nearest_point(client: Client, setup: Setup) -> None:
    # About 110 m north of building A, 1.3 km from building B.
    json_of(post(client, **form(setup, address_id=None, lat="35.551", long="116.830")))
    ticket = Ticket.objects.get()
    assert ticket.node == setup.tree.building_a
    assert (ticket.latitude, ticket.longitude) == (Decimal("35.551000"), Decimal("116.830000"))


def test_address_string_names_one_address(client: Client, setup: Setup) -> None:
    json_of(post(client, **form(setup, address_id=None, address_string="春都华府 1号楼 102")))
    assert Ticket.objects.get().node == setup.tree.household_a2


def test_an_unknown_address_string_falls_back_to_lat_long(client: Client, setup: Setup) -> None:
    json_of(
        post(
            client,
            **form(
                setup, address_id=None, address_string="8TH AVE and JUDAH ST", lat="35.5601", long="116.8401"
            ),
        )
    )
    assert Ticket.objects.get().node == setup.tree.building_b


def test_an_ambiguous_address_string_is_not_guessed(client: Client, setup: Setup) -> None:
    node_create(
        actor=superactor(),
        parent=setup.tree.building_b.get_parent(),
        kind=NodeKind.BUILDING,
        code="KXL-DY-1",
        name="1号楼",
        floors=5,
    )
    assert only_error(post(client, **form(setup, address_id=None, address_string="1号楼")), 400) == (
        "address_string does not name one known address; send lat and long, or an address_id."
    )
    json_of(post(client, **form(setup, address_id=None, address_string="东苑小区, 1号楼")))
    assert Ticket.objects.get().node.code == "KXL-DY-1"


def test_an_unknown_address_string_alone_answers_400(client: Client, setup: Setup) -> None:
    only_error(post(client, **form(setup, address_id=None, address_string="1234 5th street")), 400)


def test_an_empty_description_names_the_matter_and_place(client: Client, setup: Setup) -> None:
    json_of(post(client, **form(setup, description=None)))
    assert Ticket.objects.get().description == "屋顶漏雨: 101, 1号楼, 春都华府, 奎星楼社区, 鼓楼街道, 兖州区"


@time_machine.travel(NOW, tick=False)
def test_a_retried_post_files_one_ticket(client: Client, setup: Setup) -> None:
    fields = form(setup, device_id="dev-1", account_id="acct-1")
    first = json_of(post(client, **fields))
    assert json_of(post(client, **fields)) == first
    assert (
        xml_of(post(client, "xml", **fields)).findtext("request/service_request_id")
        == first[0]["service_request_id"]
    )
    assert Ticket.objects.count() == 1 and Open311Submission.objects.count() == 1
    # Another device, or the same words another day, is another report.
    json_of(post(client, **form(setup, device_id="dev-2", account_id="acct-1")))
    assert Ticket.objects.count() == 2
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        json_of(post(client, **fields))
    assert Ticket.objects.count() == 3


@override_settings(OPEN311_JURISDICTIONS=["yanzhou.gov.cn"])
def test_jurisdiction_id_is_checked_when_configured(client: Client, setup: Setup) -> None:
    assert (
        only_error(post(client, **form(setup, jurisdiction_id="sfgov.org")), 404)
        == "jurisdiction_id sfgov.org was not found."
    )
    assert client.get(f"{BASE}/services.json?jurisdiction_id=sfgov.org").status_code == 404
    assert post(client, **form(setup, jurisdiction_id="yanzhou.gov.cn")).status_code == 200
    assert client.get(f"{BASE}/services.json?jurisdiction_id=yanzhou.gov.cn").status_code == 200
    assert client.get(f"{BASE}/services.json").status_code == 200  # optional: one jurisdiction


def test_other_methods_answer_405(client: Client, setup: Setup) -> None:
    response = client.put(f"{BASE}/requests.json")
    assert response.status_code == 405 and response["Allow"] == "GET, POST"
    assert json_of(response)[0]["code"] == 405
    assert client.post(f"{BASE}/services.xml").status_code == 405


def test_an_unexpected_failure_answers_the_general_service_error(
    client: Client, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("gongzhi.open311.views.open311_request_create", broken)
    assert only_error(post(client, "json", **form(setup)), 400) == (
        "General service error: the request could not be processed. Please tell us."
    )


def test_a_raw_body_like_the_specifications_example_is_understood(client: Client, setup: Setup) -> None:
    """Brackets unescaped, as the specification's example request writes them."""
    body = (
        f"api_key={setup.key}&jurisdiction_id=city.gov&service_code=leaky-roof&lat=35.5501&long=116.8301"
        "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456"
        "&first_name=john&last_name=smith&phone=13811112222&description=A+large+sinkhole+is+destroying+the+street"
        "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
        "&attribute[floor]=3&attribute[signs][]=drip&attribute[signs][]=crack&attribute[WHISDORN]=COISL001"
    )
    response = client.post(
        f"{BASE}/requests.xml", body, content_type="application/x-www-form-urlencoded; charset=utf-8"
    )
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert xml_of(response).findtext("request/service_request_id") == ticket.number
    assert ticket.node == setup.tree.building_a
    assert ticket.answers == {"floor": "3", "signs": ["crack", "drip"]}
    assert ticket.reporter_name == "john smith"
