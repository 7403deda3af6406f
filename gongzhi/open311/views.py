"""The Open311 GeoReport v2 endpoints. Thin: parse the arguments, call a selector or service,
render the document in the format the URL names (.xml or .json).

Every failure answers with the specification's error document and status: 400 for missing
or invalid arguments, 403 for a missing or wrong api_key, 404 for an unknown service, request,
token or jurisdiction, 429 when a client exceeds its rate limit.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.core.ratelimit import RateLimited, client_ip, ensure_within_rate
from gongzhi.open311 import documents, selectors
from gongzhi.open311.rendering import render, render_errors
from gongzhi.open311.services import (
    Open311Post,
    open311_key_authenticate,
    open311_post_rate,
    open311_request_create,
)

View = Callable[..., HttpResponse]
logger = logging.getLogger(__name__)

# Names the intake service gives its fields → the Open311 argument names a client knows.
_FIELD_NAMES = {"category": "service_code", "description": "description", "phone": "phone"}


def _descriptions(error: ApplicationError) -> list[str]:
    fields: dict[str, Any] = error.extra.get("fields") or {}
    if not fields:
        return [str(error.message)]
    answers = error.code == "invalid_answers"
    return [
        f"{f'attribute[{name}]' if answers else _FIELD_NAMES.get(name, name)}: {message}"
        for name, message in fields.items()
    ]


def _error_response(fmt: str, error: ApplicationError) -> HttpResponse:
    if isinstance(error, RateLimited):
        response = render_errors(fmt, 429, str(error.message))
        response["Retry-After"] = str(error.retry_after)
        return response
    # ValidationFailed is 422 elsewhere; Open311 answers 400 for any request it cannot fulfil.
    status = error.status if error.status in (403, 404) else 400
    return render_errors(fmt, status, *_descriptions(error))


def _check_jurisdiction(request: HttpRequest) -> None:
    given = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "").strip()
    accepted = settings.OPEN311_JURISDICTIONS
    if given and accepted and given not in accepted:
        raise NotFound(_("jurisdiction_id %(id)s was not found.") % {"id": given})


def endpoint(*methods: str) -> Callable[[View], View]:
    """Method check, jurisdiction_id, the per-address limit on GETs, and errors as Open311 documents."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = render_errors(
                    fmt, 405, _("Method %(method)s is not allowed here.") % {"method": request.method}
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                if request.method == "GET":
                    ensure_within_rate(name="open311_get", key=client_ip(request) or "unknown")
                _check_jurisdiction(request)
                return view(request, *args, fmt=fmt, **kwargs)
            except ApplicationError as error:
                return _error_response(fmt, error)
            except Exception:
                # The specification's "general service error" is a 400 the client reports to us;
                # the traceback goes to the log as any server error would.
                logger.exception("Open311 %s %s failed", request.method, request.path)
                return render_errors(
                    fmt, 400, _("General service error: the request could not be processed. Please tell us.")
                )

        return wrapper

    return decorate


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    return render(fmt, "discovery", documents.discovery(request))


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    return render(fmt, "services", [documents.service(category) for category in selectors.service_list()])


@endpoint("GET")
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    return render(fmt, "service_definition", documents.service_definition(selectors.service_get(code)))


@csrf_exempt  # clients authenticate with api_key, never with a session cookie
@endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    filters = selectors.RequestFilters(
        numbers=_comma_list(request, "service_request_id"),
        service_codes=_comma_list(request, "service_code"),
        start=_date_argument(request, "start_date"),
        end=_date_argument(request, "end_date"),
        statuses=_statuses(request),
    )
    tickets = selectors.request_list(filters, now=clock.now())
    return render(fmt, "service_requests", documents.service_requests(tickets))


@endpoint("GET")
def request_detail(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    return render(fmt, "service_requests", documents.service_requests([selectors.request_get(number)]))


@endpoint("GET")
def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    ticket = selectors.request_for_token(token)
    return render(fmt, "service_requests", [documents.token(ticket, token)])


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    fmt = "json" if request.path.endswith(".json") else "xml"
    return render_errors(fmt, 404, _("No such Open311 resource: %(path)s") % {"path": request.path})


# --- arguments -----------------------------------------------------------------------------


def _comma_list(request: HttpRequest, name: str) -> list[str]:
    """A comma-separated argument, which may also be given several times (a=1,2&a=3)."""
    return [item.strip() for raw in request.GET.getlist(name) for item in raw.split(",") if item.strip()]


def _statuses(request: HttpRequest) -> list[str]:
    statuses = [status.lower() for status in _comma_list(request, "status")]
    unknown = [status for status in statuses if status not in selectors.STATUS_STATES]
    if unknown:
        raise ValidationFailed(_("status must be open or closed (comma-separated)."))
    return statuses


def _date_argument(request: HttpRequest, name: str) -> dt.datetime | None:
    """A W3C date or date-time; without an offset it is read in the platform's time zone."""
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw.replace(" ", "+"))  # an unescaped "+08:00" arrives as " 08:00"
        if value is None and (day := parse_date(raw)) is not None:
            value = dt.datetime(day.year, day.month, day.day)
    except ValueError:
        value = None
    if value is None:
        raise ValidationFailed(
            _("%(name)s must be a W3C date and time, e.g. 2010-01-01T00:00:00Z.") % {"name": name}
        )
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _attributes(request: HttpRequest) -> dict[str, Any]:
    """attribute[CODE]=value, and attribute[CODE][]=v1&attribute[CODE][]=v2 for a multivaluelist."""
    attributes: dict[str, Any] = {}
    for name in request.POST:
        if not (name.startswith("attribute[") and name.endswith("]")):
            continue
        inner = name[len("attribute[") : -1]
        many = inner.endswith("][")
        code = inner.removesuffix("][")
        values = request.POST.getlist(name)
        attributes[code] = values if many or len(values) > 1 else values[0]
    return attributes


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    api_key = request.POST.get("api_key") or request.GET.get("api_key") or ""
    if not api_key.strip():
        return render_errors(fmt, 403, _("api_key is missing -- can't proceed with create_request."))
    key = open311_key_authenticate(api_key)
    if key is None:
        return render_errors(fmt, 403, _("Invalid api_key received -- can't proceed with create_request."))
    ensure_within_rate(name="open311_post", key=str(key.pk), rate=open311_post_rate(key))
    fields = {
        name: request.POST.get(name, "") for name in Open311Post.__dataclass_fields__ if name != "attributes"
    }
    ticket, submission = open311_request_create(
        key=key, data=Open311Post(**fields, attributes=_attributes(request))
    )
    return render(fmt, "service_requests", [documents.posted(ticket, submission)])
