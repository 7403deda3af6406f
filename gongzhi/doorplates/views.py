"""Staff pages for doorplates: print a place's plates as a job, follow it, download the PDF."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import get_language

from gongzhi.accounts.permissions import Perm
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.views import request_actor, staff_view
from gongzhi.doorplates.forms import PrintForm
from gongzhi.doorplates.models import PrintStatus
from gongzhi.doorplates.selectors import print_job_get, print_job_list
from gongzhi.doorplates.services import PRINTABLE_KINDS, plate_nodes, print_job_create
from gongzhi.territory.selectors import node_ancestors, node_get


@staff_view
def jobs(request: HttpRequest) -> HttpResponse:
    return render(request, "doorplates/jobs.html", {"jobs": print_job_list(actor=request_actor(request))})


@staff_view
def print_plates(request: HttpRequest, node_id: int) -> HttpResponse:
    actor = request_actor(request)
    node = node_get(actor=actor, node_id=node_id)
    if node.kind not in PRINTABLE_KINDS:
        raise NotFound()
    form = PrintForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = print_job_create(
                    actor=actor,
                    node_id=node.pk,
                    layout=form.cleaned_data["layout"],
                    reissue=form.cleaned_data["reissue"],
                    language=get_language() or "",
                )
            except ValidationFailed as error:
                form.add_error(None, str(error.message))
            else:
                return redirect("doorplates:job", job_id=job.pk)
        status = 422
    context = {
        "node": node,
        "ancestors": node_ancestors(actor=actor, node=node),
        "form": form,
        "plate_count": len(plate_nodes(node)),
        "can_reissue": actor.can(Perm.EDIT_NETWORK, node.path),
        "jobs": print_job_list(actor=actor, node=node, limit=10),
    }
    return render(request, "doorplates/print.html", context, status=status)


@staff_view
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    print_job = print_job_get(actor=request_actor(request), job_id=job_id)
    template_name = (
        "doorplates/_job_status.html" if getattr(request, "htmx", False) else "doorplates/job.html"
    )
    return render(request, template_name, {"job": print_job})


@staff_view
def download(request: HttpRequest, job_id: int) -> HttpResponseBase:
    print_job = print_job_get(actor=request_actor(request), job_id=job_id)
    if print_job.status != PrintStatus.SUCCEEDED or not print_job.file:
        raise NotFound()
    response = FileResponse(
        print_job.file.open("rb"),
        as_attachment=True,
        filename=f"doorplates-{print_job.node.code}-{print_job.pk}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response
