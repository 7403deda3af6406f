"""The staff inbox (/notifications/) and the failures page for admins. Thin: selectors and services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from gongzhi.core.views import request_actor, staff_view
from gongzhi.notifications import selectors, services


def _back(request: HttpRequest, default: str = "notifications:inbox") -> HttpResponseBase:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


@require_GET
@staff_view
def inbox(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    page = Paginator(selectors.inbox_for(actor), settings.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "can_view_failures": selectors.can_view_failures(actor)}
    return render(request, "notifications/inbox.html", context)


@require_POST
@staff_view
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponseBase:
    notification = services.notification_mark_read(
        actor=request_actor(request), notification_id=notification_id
    )
    if request.POST.get("open") and notification.url.startswith("/"):
        return redirect(notification.url)
    return _back(request)


@require_POST
@staff_view
def mark_all_read(request: HttpRequest) -> HttpResponseBase:
    count = services.notifications_mark_all_read(actor=request_actor(request))
    if count:
        messages.success(
            request,
            ngettext("%(count)s message marked read.", "%(count)s messages marked read.", count)
            % {"count": count},
        )
    return _back(request)


@require_GET
@staff_view
def failures(request: HttpRequest) -> HttpResponse:
    rows = selectors.failures_for(request_actor(request)).order_by("-created_at", "-pk")
    page = Paginator(rows, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/failures.html", {"page": page})


@require_POST
@staff_view
def retry(request: HttpRequest) -> HttpResponseBase:
    ids = [int(value) for value in request.POST.getlist("id") if value.isdigit()]
    count = services.notifications_retry(
        actor=request_actor(request), notification_ids=None if request.POST.get("all") else ids
    )
    messages.success(
        request,
        ngettext("%(count)s message queued again.", "%(count)s messages queued again.", count)
        % {"count": count},
    )
    return redirect("notifications:failures")
