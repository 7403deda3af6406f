"""The unread badge of the nav, computed only when a page renders it (one indexed count)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from gongzhi.notifications.selectors import unread_count


class _UnreadCount:
    """Callable the template engine calls on use; the count is queried once, on first use."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self._value: int | None = None

    def __call__(self) -> int:
        if self._value is None:
            actor = getattr(self._request, "actor", None)
            self._value = unread_count(actor) if actor is not None and actor.is_authenticated else 0
        return self._value


def inbox(request: HttpRequest) -> dict[str, Any]:
    return {"notifications_unread": _UnreadCount(request)}
