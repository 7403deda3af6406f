"""Ticket pages (filled in by the staff and resident page work)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    return HttpResponse(number)


def ticket_follow(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse(token)


def doorplate_home(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse(token)
