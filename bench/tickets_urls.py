"""The project's URLs plus two bench-only views (never mounted by the app itself):

- /healthz: the minimal Django view, through the whole middleware stack, as a ceiling;
- /bench/submit: a resident-style form POST straight into `ticket_submit`, the fallback the
  benchmark uses only when neither the Open311 nor the JSON API route exists.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from gongzhi.config.urls import urlpatterns as project_urlpatterns


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
def submit(request: HttpRequest) -> HttpResponse:
    from gongzhi.tickets.services.intake import TicketInput, ticket_submit

    ticket = ticket_submit(
        actor=None,
        data=TicketInput(
            node_id=int(request.POST["node_id"]),
            category_code=request.POST["category"],
            description=request.POST["description"],
            channel="web",
        ),
    )
    return JsonResponse({"number": ticket.number}, status=201)


urlpatterns = [path("healthz", healthz), path("bench/submit", submit), *project_urlpatterns]
