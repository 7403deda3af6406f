"""SMS gateways: one small class per provider, chosen by settings.SMS_BACKEND (GONGZHI_SMS_BACKEND).

A gateway sends one text to one phone and raises `SmsError` when the provider refuses or cannot be
reached; the delivery worker turns that into a retry with backoff. Write a class for your provider
(subclass `SmsGateway`, implement `send`) and point GONGZHI_SMS_BACKEND at it.

- `LogGateway` (the default, for development): writes the text and the masked phone to the log.
- `HttpGateway`: a generic example that POSTs JSON {"phone", "text"} to GONGZHI_SMS_URL with
  `Authorization: Bearer GONGZHI_SMS_TOKEN`; any 2xx answer counts as accepted.

Other code that needs to text someone (e.g. one-time codes) calls `send_sms(phone, text)`.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from gongzhi.core.personal import mask_phone

logger = logging.getLogger("gongzhi.sms")

# Seconds to wait for a provider: the worker must not hang on one message.
SEND_TIMEOUT_SECONDS = 5


class SmsError(Exception):
    """The provider did not accept the message (worth retrying later)."""


class SmsGateway:
    def send(self, phone: str, text: str) -> None:
        """Hand the text to the provider; return when accepted, raise SmsError otherwise."""
        raise NotImplementedError


class LogGateway(SmsGateway):
    """Development gateway: nothing leaves the machine; the text (codes included) goes to the log.

    The phone is masked so that logs shipped elsewhere do not collect residents' numbers.
    """

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), text)


class HttpGateway(SmsGateway):
    """Example HTTP gateway: POST {"phone": ..., "text": ...} as JSON with a bearer token."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.url = url if url is not None else settings.SMS_URL
        self.token = token if token is not None else settings.SMS_TOKEN
        if not self.url.startswith(("https://", "http://")):
            raise ImproperlyConfigured("GONGZHI_SMS_URL must be an http(s) address for HttpGateway.")

    def send(self, phone: str, text: str) -> None:
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise SmsError(f"gateway answered HTTP {error.code}") from error
        except (urllib.error.URLError, OSError) as error:
            raise SmsError(f"gateway unreachable: {error}") from error
        if not 200 <= status < 300:
            raise SmsError(f"gateway answered HTTP {status}")


def get_gateway() -> SmsGateway:
    gateway_class = import_string(settings.SMS_BACKEND)
    gateway: SmsGateway = gateway_class()
    return gateway


def send_sms(phone: str, text: str) -> None:
    """Send now through the configured gateway (raises SmsError). Prefer `notify` for anything
    that reports a state change: it survives crashes and retries."""
    get_gateway().send(phone, text)
