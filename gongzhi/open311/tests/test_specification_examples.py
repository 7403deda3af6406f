"""Our answers against the GeoReport v2 specification's own examples: the same elements, in the
same nesting and order, in XML; the same keys (Spark convention) in JSON.

The XML examples below are copied from the specification (GeoReport_v2/index.md and
Service_Discovery.md); `shape` reduces a document to its element names, so values may differ.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from gongzhi.open311.tests.conftest import BASE, Setup, form, json_of, post, xml_of
from gongzhi.tickets.models import Ticket

SPEC_SERVICES = """<?xml version="1.0" encoding="utf-8"?>
<services>
    <service>
        <service_code>001</service_code>
        <service_name>Cans left out 24x7</service_name>
        <description>Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.</description>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>lorem, ipsum, dolor</keywords>
        <group>sanitation</group>
    </service>
</services>"""

SPEC_DEFINITION = """<?xml version="1.0" encoding="utf-8"?>
<service_definition>
    <service_code>DMV66</service_code>
    <attributes>
        <attribute>
            <variable>true</variable>
            <code>WHISHETN</code>
            <datatype>singlevaluelist</datatype>
            <required>true</required>
            <datatype_description></datatype_description>
            <order>1</order>
            <description>What is the ticket/tag/DL number?</description>
            <values>
                <value>
                    <key>123</key>
                    <name>Ford</name>
                </value>
                <value>
                    <key>124</key>
                    <name>Chrysler</name>
                </value>
            </values>
        </attribute>
    </attributes>
</service_definition>"""

SPEC_POSTED = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>293944</service_request_id>
        <service_notice>The City will inspect and require the responsible party to correct within 24 hours</service_notice>
        <account_id/>
    </request>
</service_requests>"""

SPEC_TOKEN = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>638344</service_request_id>
        <token>12345</token>
    </request>
</service_requests>"""

SPEC_REQUESTS = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>638344</service_request_id>
        <status>closed</status>
        <status_notes>Duplicate request.</status_notes>
        <service_name>Sidewalk and Curb Issues</service_name>
        <service_code>006</service_code>
        <description></description>
        <agency_responsible></agency_responsible>
        <service_notice></service_notice>
        <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
        <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
        <expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
        <address>8TH AVE and JUDAH ST</address>
        <address_id>545483</address_id>
        <zipcode>94122</zipcode>
        <lat>37.762221815</lat>
        <long>-122.4651145</long>
        <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg </media_url>
    </request>
</service_requests>"""

SPEC_ERRORS = """<?xml version="1.0" encoding="utf-8"?>
<errors>
    <error>
        <code>403</code>
        <description>Invalid api_key received -- can't proceed with create_request.</description>
    </error>
</errors>"""

SPEC_DISCOVERY = """<?xml version="1.0" encoding="UTF-8"?>
<discovery>
    <changeset>2011-02-03 14:18</changeset>
    <contact>You can email or call for assistance api@mycity.org +1 (555) 555-5555</contact>
    <key_service>You can request a key here: http://api.mycity.gov/api_key/request</key_service>
    <endpoints>
        <endpoint>
            <specification>http://wiki.open311.org/GeoReport_v2</specification>
            <url>http://open311.mycity.gov/v2</url>
            <changeset>2010-11-23 09:01</changeset>
            <type>production</type>
            <formats>
                <format>text/xml</format>
            </formats>
        </endpoint>
    </endpoints>
</discovery>"""


def shape(element: ElementTree.Element) -> tuple[str, tuple[Any, ...]]:
    """Element names, nested; repeated children merge into one (the fullest of them), since an
    example may list one item where we list several (and an empty `values` for a number)."""
    children: dict[str, tuple[str, tuple[Any, ...]]] = {}
    for child in element:
        child_shape = shape(child)
        if child.tag not in children or len(repr(child_shape)) > len(repr(children[child.tag])):
            children[child.tag] = child_shape
    return element.tag, tuple(children.values())


def spec_shape(text: str) -> tuple[str, tuple[Any, ...]]:
    return shape(ElementTree.fromstring(text.encode()))


def keys(document: dict[str, Any]) -> list[str]:
    return list(document)


def test_discovery_matches_the_specification(client: Client, setup: Setup) -> None:
    assert shape(xml_of(client.get(f"{BASE}/discovery.xml"))) == spec_shape(SPEC_DISCOVERY)
    document = json_of(client.get(f"{BASE}/discovery.json"))
    assert keys(document) == ["changeset", "contact", "key_service", "endpoints"]
    (endpoint,) = document["endpoints"]
    assert keys(endpoint) == ["specification", "url", "changeset", "type", "formats"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]


def test_services_match_the_specification(client: Client, setup: Setup) -> None:
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert shape(root) == spec_shape(SPEC_SERVICES)
    ours = next(service for service in root if service.findtext("service_code") == "leaky-roof")
    assert ours.findtext("metadata") == "true"
    assert ours.findtext("type") == "realtime"
    assert ours.findtext("keywords") == "漏雨, 屋顶, 防水"
    assert ours.findtext("group") == "房屋"

    services = json_of(client.get(f"{BASE}/services.json"))
    assert isinstance(services, list)
    leaky = next(service for service in services if service["service_code"] == "leaky-roof")
    assert keys(leaky) == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert leaky["metadata"] is True
    assert leaky["service_name"] == "屋顶漏雨"
    # A category without questions needs no service definition call.
    assert next(s for s in services if s["service_code"] == "gas-smell")["metadata"] is False


def test_a_service_definition_matches_the_specification(client: Client, setup: Setup) -> None:
    root = xml_of(client.get(f"{BASE}/services/leaky-roof.xml"))
    # The specification's example has one singlevaluelist attribute; ours has three, same shape.
    assert shape(root) == spec_shape(SPEC_DEFINITION)
    assert [a.findtext("code") for a in root.iter("attribute")] == ["floor", "room", "signs"]

    definition = json_of(client.get(f"{BASE}/services/leaky-roof.json"))
    assert keys(definition) == ["service_code", "attributes"]
    floor, room, signs = definition["attributes"]
    assert keys(room) == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert floor == {
        "variable": True,
        "code": "floor",
        "datatype": "number",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "哪一层？",
        "values": [],
    }
    assert room["values"] == [{"key": "kitchen", "name": "厨房"}, {"key": "bath", "name": "卫生间"}]
    assert room["datatype_description"] == "选一个"
    assert (signs["datatype"], signs["order"], signs["required"]) == ("multivaluelist", 3, False)


def test_a_posted_request_answers_as_the_specification_shows(client: Client, setup: Setup) -> None:
    root = xml_of(post(client, "xml", **form(setup, account_id="acct-7")))
    # The id is assigned at once, so no token (the specification: not returned with an id).
    tag, (request_shape,) = shape(root)
    assert tag == "service_requests"
    assert request_shape == (
        "request",
        (("service_request_id", ()), ("service_notice", ()), ("account_id", ())),
    )
    assert dict(spec_shape(SPEC_POSTED)[1])["request"] == request_shape[1]
    assert root.findtext("request/account_id") == "acct-7"

    (answer,) = json_of(post(client, "json", **form(setup, description="另一处漏雨，在楼梯间")))
    assert keys(answer) == ["service_request_id", "service_notice", "account_id"]
    assert answer["account_id"] is None
    assert answer["service_notice"]


def test_token_answers_as_the_specification_shows(client: Client, setup: Setup) -> None:
    (posted,) = json_of(post(client, **form(setup)))
    token = Ticket.objects.get(number=posted["service_request_id"]).follow_token
    root = xml_of(client.get(f"{BASE}/tokens/{token}.xml"))
    assert shape(root) == spec_shape(SPEC_TOKEN)
    assert json_of(client.get(f"{BASE}/tokens/{token}.json")) == [
        {"service_request_id": posted["service_request_id"], "token": token}
    ]


def test_requests_answer_as_the_specification_shows(client: Client, setup: Setup) -> None:
    (posted,) = json_of(post(client, **form(setup, media_url="https://img.example.org/leak.jpg")))
    number = posted["service_request_id"]
    for url in (f"{BASE}/requests.xml", f"{BASE}/requests/{number}.xml"):
        root = xml_of(client.get(url))
        assert shape(root) == spec_shape(SPEC_REQUESTS), url
    (request,) = json_of(client.get(f"{BASE}/requests/{number}.json"))
    assert keys(request) == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    assert request["media_url"] == "https://img.example.org/leak.jpg"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_errors_answer_as_the_specification_shows(client: Client, setup: Setup, fmt: str) -> None:
    response = post(client, fmt, **form(setup, api_key="o311_wrong"))
    assert response.status_code == 403
    if fmt == "xml":
        root = xml_of(response)
        assert shape(root) == spec_shape(SPEC_ERRORS)
        assert root.findtext("error/code") == "403"
        assert (
            root.findtext("error/description")
            == "Invalid api_key received -- can't proceed with create_request."
        )
    else:
        assert json_of(response) == [
            {"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}
        ]
