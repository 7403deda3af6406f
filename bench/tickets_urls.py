"""The project's URLs plus one bench-only view (never mounted by the app itself): /healthz, the
minimal Django view through the whole middleware stack, measured as a ceiling beside the submissions.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from gongzhi.config.urls import urlpatterns as project_urlpatterns


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("healthz", healthz), *project_urlpatterns]
