"""Refuse NUL characters in requests before any view sees them.

PostgreSQL cannot store U+0000 in text, so a NUL in a query or a JSON body would otherwise surface as
a database error (500) deep inside a view. No legitimate input carries one: answer 400 at the door.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


def _has_nul(request: HttpRequest) -> bool:
    if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
        return True
    if request.method in {"POST", "PUT", "PATCH"} and request.content_type != "multipart/form-data":
        body = request.body  # bounded by DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.content_type == "application/x-www-form-urlencoded":
            body = unquote_to_bytes(body.replace(b"+", b" "))
        return b"\x00" in body or b"\\u0000" in body
    return False


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            message = _("The request contains a NUL character.")
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid", "message": message}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
