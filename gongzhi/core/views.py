"""Shared plumbing of the staff web: the `staff_view` decorator and error pages.

Every staff page is wrapped by `staff_view`: it requires a login, shows a polite page to
users without a staff role, and maps domain errors (ApplicationError) to friendly pages
with the right status — 404 for NotFound (missing and out of scope look the same),
403 for PermissionDenied. htmx requests get a small inline partial instead of a whole page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from gongzhi.accounts.permissions import STAFF_ROLES
from gongzhi.accounts.scope import Actor
from gongzhi.core.errors import ApplicationError, NotFound, PermissionDenied

View = Callable[..., HttpResponseBase]


def request_actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def is_staff_actor(actor: Actor) -> bool:
    """A superuser, or someone holding a staff role on a node or an organization (a department handler
    whose department serves no node is still staff: tickets summon the department itself)."""
    held = actor.roles | {role for role, _organization in actor.organization_roles}
    return actor.is_superuser or bool(held & STAFF_ROLES)


def application_error_response(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    """Render a domain error as a page (or an htmx partial) with its HTTP status."""
    if isinstance(error, NotFound):
        template, status = "404.html", 404
    elif isinstance(error, PermissionDenied):
        template, status = "403.html", 403
    else:
        template, status = "error.html", error.status
    if getattr(request, "htmx", False):
        template = "_error_inline.html"
    return render(request, template, {"error": error}, status=status)


def staff_view(view: View) -> View:
    """Login required, staff role required, ApplicationError → friendly error page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff_actor(request_actor(request)):
            return render(request, "accounts/not_staff.html", status=403)
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            return application_error_response(request, error)

    return wrapper
