"""The one NinjaAPI at /api/v1/. Each app contributes a Router; domain errors map to HTTP here."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import BaseRenderer

from gongzhi.core.api_auth import api_auth
from gongzhi.core.errors import ApplicationError
from gongzhi.core.ratelimit import RateLimited


class ReadableJSONRenderer(BaseRenderer):
    """JSON with Chinese left readable (ninja escapes non-ASCII by default)."""

    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> str:
        from django.core.serializers.json import DjangoJSONEncoder

        return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)


def _readable_openapi(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """ninja serves openapi.json with ASCII escapes; re-encode it so Chinese stays readable."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.get("Content-Type", "").startswith("application/json"):
            response.content = json.dumps(json.loads(response.content), ensure_ascii=False).encode()
        return response

    return wrapper


api = NinjaAPI(
    title="Gongzhi API",
    version="1",
    description="共治 Gongzhi: the one network, its people and its work. Errors are `{code, message}`.",
    urls_namespace="api",
    renderer=ReadableJSONRenderer(),
    # Every operation needs a bearer token or a session unless it says `auth=None`.
    auth=api_auth(),
    docs_decorator=_readable_openapi,
)


def error_response(request: HttpRequest, status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, str(exc.message), **exc.extra)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = error_response(request, exc.status, exc.code, str(exc.message), **exc.extra)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "not_authenticated", _("Log in or send a valid API token."))


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return error_response(
        request, 422, "validation_failed", _("The request is not valid."), errors=exc.errors
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "error", str(exc))


def _mount_routers() -> None:
    """Mount every app's router. Kept in one place so the API's shape reads top to bottom."""
    from gongzhi.accounts.api import router as accounts_router
    from gongzhi.people.api import router as people_router
    from gongzhi.territory.api import router as territory_router
    from gongzhi.tickets.api import router as tickets_router
    from gongzhi.votes.api import router as votes_router

    api.add_router("", accounts_router)
    api.add_router("", territory_router)
    api.add_router("", people_router)
    api.add_router("", tickets_router)
    api.add_router("", votes_router)
    api.add_router("", "gongzhi.insight.api.router")


_mount_routers()
