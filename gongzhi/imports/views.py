"""Staff pages for imports: upload with templates, a job's progress and errors, exports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import Perm
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.views import request_actor, staff_view
from gongzhi.imports.forms import ExportForm, UploadForm
from gongzhi.imports.models import ImportKind
from gongzhi.imports.selectors import import_job_get, import_job_list
from gongzhi.imports.services import export_workbook, import_job_create, import_job_live_progress
from gongzhi.imports.workbook import XLSX_CONTENT_TYPE, build_template
from gongzhi.territory.models import Node

TEMPLATE_FILE_NAMES: dict[str, str] = {
    ImportKind.TERRITORY: "territory-template.xlsx",
    ImportKind.ROSTER: "roster-template.xlsx",
}


def _xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _export_nodes(request: HttpRequest) -> list[Node]:
    actor = request_actor(request)
    if actor.is_superuser:
        return list(Node.objects.filter(depth=1))
    return list(Node.objects.filter(path__in=actor.paths_for(Perm.IMPORT_DATA)))


@staff_view
def new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    actor.ensure_has_perm(Perm.IMPORT_DATA)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = import_job_create(
                    actor=actor,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    language=get_language() or "",
                )
            except ValidationFailed as error:
                form.add_error("file", str(error.message))
            else:
                return redirect("imports:detail", job_id=job.pk)
        status = 422
    context = {
        "form": form,
        "kinds": ImportKind.choices,
        "jobs": import_job_list(actor=actor),
        "export_nodes": _export_nodes(request),
    }
    return render(request, "imports/new.html", context, status=status)


@staff_view
def template(request: HttpRequest, kind: str) -> HttpResponse:
    request_actor(request).ensure_has_perm(Perm.IMPORT_DATA)
    if kind not in ImportKind.values:
        raise NotFound()
    return _xlsx_response(build_template(kind), TEMPLATE_FILE_NAMES[kind])


@staff_view
def detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_live_progress(import_job_get(actor=request_actor(request), job_id=job_id))
    template_name = "imports/_job_status.html" if getattr(request, "htmx", False) else "imports/detail.html"
    return render(request, template_name, {"job": job})


@staff_view
def export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.GET)
    if not form.is_valid():
        raise ValidationFailed(_("Choose what to export and where."), code="bad_export")
    filename, data = export_workbook(
        actor=request_actor(request), kind=form.cleaned_data["kind"], node_id=form.cleaned_data["node"]
    )
    return _xlsx_response(data, filename)
