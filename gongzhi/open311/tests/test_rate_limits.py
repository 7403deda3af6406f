"""Rate limits: posts per key (its own limit, else the default of 60 a minute), GET calls per client
address; 429 beyond."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.conf import settings
from django.test import Client, override_settings

from gongzhi.open311.services import open311_key_issue, open311_key_update
from gongzhi.open311.tests.conftest import BASE, Setup, form, json_of, post, xml_of
from gongzhi.tickets.models import Ticket

NOW = dt.datetime(2026, 11, 25, 2, 0, 10, tzinfo=dt.UTC)


def test_the_default_lets_a_client_post_60_a_minute() -> None:
    assert settings.RATE_LIMITS["open311_post"] == "60/minute"


@time_machine.travel(NOW, tick=False)
@override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "open311_post": "2/minute"})
def test_posts_beyond_the_key_limit_answer_429(client: Client, setup: Setup) -> None:
    for number in range(2):
        assert post(client, **form(setup, description=f"第{number}次：楼顶漏雨")).status_code == 200
    refused = post(client, "xml", **form(setup, description="第三次：楼顶漏雨"))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"
    assert xml_of(refused).findtext("error/code") == "429"
    assert Ticket.objects.count() == 2
    # Another key has its own budget; and the next minute the first one may post again.
    other = open311_key_issue(actor=None, name="other", organization_id=setup.organization.pk).secret
    assert post(client, **form(setup, api_key=other)).status_code == 200
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        assert post(client, **form(setup, description="下一分钟：楼顶漏雨")).status_code == 200


@time_machine.travel(NOW, tick=False)
@override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "open311_post": "2/minute"})
def test_a_key_s_own_limit_overrides_the_default(client: Client, setup: Setup) -> None:
    """A key with its own limit (higher or lower) posts that many a minute; one without, the default."""
    generous = open311_key_issue(
        actor=None, name="hotline", organization_id=setup.organization.pk, posts_per_minute=4
    )
    strict = open311_key_issue(
        actor=None, name="kiosk", organization_id=setup.organization.pk, posts_per_minute=1
    )
    answers = {
        name: [
            post(client, **form(setup, api_key=secret, description=f"{name}第{n}次：楼顶漏雨")).status_code
            for n in range(5)
        ]
        for name, secret in (("generous", generous.secret), ("strict", strict.secret), ("default", setup.key))
    }
    assert answers == {
        "generous": [200, 200, 200, 200, 429],
        "strict": [200, 429, 429, 429, 429],
        "default": [200, 200, 429, 429, 429],
    }
    assert Ticket.objects.count() == 4 + 1 + 2
    # Lowered in the back office: the next post sees the new limit (the memoized key is dropped on save).
    open311_key_update(
        actor=None, key_id=generous.key.pk, organization_id=setup.organization.pk, posts_per_minute=1
    )
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        statuses = [
            post(client, **form(setup, api_key=generous.secret, description=f"下一分钟{n}")).status_code
            for n in range(2)
        ]
    assert statuses == [200, 429]


@time_machine.travel(NOW, tick=False)
@override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "open311_get": "3/minute"})
def test_gets_beyond_the_address_limit_answer_429(setup: Setup) -> None:
    here = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.0.0.1")
    for url in ("services.json", "requests.json", "discovery.xml"):
        assert here.get(f"{BASE}/{url}").status_code == 200
    refused = here.get(f"{BASE}/services.json")
    assert refused.status_code == 429
    (error,) = json_of(refused)
    assert error["code"] == 429
    elsewhere = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.0.0.2")
    assert elsewhere.get(f"{BASE}/services.json").status_code == 200
