"""SMS gateways: the development one logs (phone masked), the HTTP example posts JSON with a token."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from gongzhi.notifications.sms import HttpGateway, LogGateway, SmsError, get_gateway, send_sms
from gongzhi.notifications.tests.fakes import webhook_receiver


def test_the_log_gateway_writes_the_text_and_the_masked_phone(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="gongzhi.sms"):
        LogGateway().send("13812345678", "验证码 123456")
    assert "138****5678" in caplog.text and "验证码 123456" in caplog.text
    assert "13812345678" not in caplog.text


def test_the_default_backend_is_the_log_gateway(settings) -> None:
    assert settings.SMS_BACKEND == "gongzhi.notifications.sms.LogGateway"
    assert isinstance(get_gateway(), LogGateway)


def test_the_http_gateway_posts_json_with_the_token() -> None:
    with webhook_receiver() as receiver:
        HttpGateway(url=receiver.url, token="tok-1").send("13812345678", "您的诉求已受理")
    (request,) = receiver.requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["authorization"] == "Bearer tok-1"
    assert json.loads(request.body) == {"phone": "13812345678", "text": "您的诉求已受理"}


def test_the_http_gateway_raises_on_refusal() -> None:
    with webhook_receiver() as receiver:
        receiver.status = 503
        with pytest.raises(SmsError, match="503"):
            HttpGateway(url=receiver.url, token="t").send("13812345678", "x")


def test_the_http_gateway_needs_an_address(settings) -> None:
    settings.SMS_URL = ""
    with pytest.raises(ImproperlyConfigured):
        HttpGateway()


def test_send_sms_uses_the_configured_backend(settings) -> None:
    from gongzhi.notifications.tests.fakes import FAKE_GATEWAY, FakeGateway

    settings.SMS_BACKEND = FAKE_GATEWAY
    FakeGateway.reset()
    send_sms("13812345678", "hi")
    assert FakeGateway.sent == [("13812345678", "hi")]
    FakeGateway.reset()
