from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from gongzhi.accounts.scope import resolve_actor


class ActorMiddleware:
    """Attach `request.actor`: the user with their scopes, resolved at most once per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = SimpleLazyObject(lambda: resolve_actor(getattr(request, "user", None)))  # type: ignore[attr-defined]
        return self.get_response(request)
