"""The after-commit kick of the delivery task: at most one queued per window when the queue is real."""

from __future__ import annotations

from unittest import mock

import pytest

from gongzhi.notifications import services
from gongzhi.notifications.tasks import deliver_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued() -> object:
    """A real (not immediate) queue whose scheduling is recorded instead of written."""
    with (
        mock.patch.object(services, "_queue_is_immediate", return_value=False),
        mock.patch.object(deliver_due, "schedule") as schedule,
    ):
        yield schedule


def test_kicks_inside_one_window_queue_one_delayed_delivery(queued: mock.Mock) -> None:
    for _ in range(5):
        services._kick_delivery()
    queued.assert_called_once_with(delay=services.KICK_WINDOW_SECONDS)


def test_the_next_window_queues_again(queued: mock.Mock) -> None:
    from django.core.cache import cache

    services._kick_delivery()
    cache.delete(services._KICK_KEY)  # the window closed
    services._kick_delivery()
    assert queued.call_count == 2


def test_an_immediate_queue_delivers_every_time() -> None:
    with mock.patch("gongzhi.notifications.tasks.deliver_due") as deliver:
        services._kick_delivery()
        services._kick_delivery()
    assert deliver.call_count == 2
