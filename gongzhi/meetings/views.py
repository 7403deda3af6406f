"""Meeting pages and the ICS feed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongzhi.accounts.scope import resolve_actor
from gongzhi.core import clock
from gongzhi.core.errors import NotFound
from gongzhi.core.views import request_actor, staff_view
from gongzhi.meetings.models import CalendarFeed
from gongzhi.meetings.selectors import ics_feed, meeting_get


@staff_view
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_get(actor=request_actor(request), meeting_id=meeting_id)
    return render(request, "meetings/detail.html", {"meeting": meeting})


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The user's private calendar of meetings in scope; the token in the address is the credential."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if feed is None:
        return HttpResponse(status=404)
    try:
        body = ics_feed(actor=resolve_actor(feed.user), host=request.get_host(), now=clock.now())
    except NotFound:
        return HttpResponse(status=404)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
