"""Authentication for /api/v1/: per-user bearer tokens, or the web session with CSRF.

Either way the acting user and their scopes are resolved once per request into
`request.actor`: the ActorMiddleware sets a lazy one from the session user; a bearer token
replaces it with the token's user.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from gongzhi.accounts.models import User
from gongzhi.accounts.scope import Actor, resolve_actor
from gongzhi.accounts.services import api_token_user
from gongzhi.core.errors import ApplicationError

TOKEN_PREFIX = "gz_"


class CsrfFailed(ApplicationError):
    code = "csrf_failed"
    status = 403

    def __init__(self) -> None:
        super().__init__(_("The CSRF token is missing or wrong. Reload the page, or use an API token."))


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer gz_…`, issued by POST /api/v1/auth/token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        token = token.strip()
        if not token.startswith(TOKEN_PREFIX):
            return None
        user = api_token_user(token)
        if user is None:
            return None
        request.user = user
        request.actor = resolve_actor(user)  # type: ignore[attr-defined]
        return user


class SessionCsrfAuth(APIKeyCookie):
    """The staff web's session. Unsafe methods need the CSRF token (header X-CSRFToken),
    checked only once a session user is found, so a caller without a session gets a 401."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # ninja would check CSRF here, before the user is known; it is checked in authenticate().
        # `self.csrf` stays True so the docs page sends the token with "Try it out".
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise CsrfFailed()
        return cast(User, user)


def api_auth() -> list[Any]:
    """The API's authentication, tried in order: a bearer token first (no CSRF), then the session."""
    return [BearerTokenAuth(), SessionCsrfAuth()]


def actor_of(request: HttpRequest) -> Actor:
    """The acting user with their scopes, resolved once per request."""
    return cast(Actor, request.actor)  # type: ignore[attr-defined]
