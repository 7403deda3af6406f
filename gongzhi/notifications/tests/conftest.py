from __future__ import annotations

from collections.abc import Iterator

import pytest

from gongzhi.notifications.tests.fakes import FAKE_GATEWAY, FakeGateway


@pytest.fixture
def gateway(settings) -> Iterator[type[FakeGateway]]:
    settings.SMS_BACKEND = FAKE_GATEWAY
    settings.NOTIFY_MAX_ATTEMPTS = 4
    settings.NOTIFY_BACKOFF_SECONDS = 60
    settings.NOTIFY_BACKOFF_MAX_SECONDS = 600
    FakeGateway.reset()
    yield FakeGateway
    FakeGateway.reset()
