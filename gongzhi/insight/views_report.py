"""Staff pages for the monthly reports (queue one, follow it, download its files again) and the
Excel export of a filtered ticket list."""

from __future__ import annotations

import datetime as dt

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core import clock
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.ratelimit import client_ip
from gongzhi.core.views import request_actor, staff_view
from gongzhi.insight.models import ReportStatus
from gongzhi.insight.report import (
    monthly_report_create,
    monthly_report_get,
    monthly_report_list,
    parse_month,
    report_file_name,
)
from gongzhi.insight.report_xlsx import tickets_export_xlsx
from gongzhi.territory.models import Node, NodeKind
from gongzhi.territory.selectors import node_get
from gongzhi.tickets import forms as ticket_forms
from gongzhi.tickets.models import Category
from gongzhi.tickets.selectors import TicketFilters

REPORT_KINDS = (NodeKind.DISTRICT, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID)
NODE_CHOICES_LIMIT = 300
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report_nodes(actor: Actor) -> list[Node]:
    """The places the actor may report on (their scope, down to the grids)."""
    return list(
        Node.objects.filter(scope_q(actor, "path", Perm.VIEW_TICKETS), kind__in=REPORT_KINDS)
        .order_by("path")
        .only("pk", "name", "kind", "depth", "path")[:NODE_CHOICES_LIMIT]
    )


def _previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@staff_view
@require_http_methods(["GET", "POST"])
def report_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    nodes = _report_nodes(actor)
    error, status = "", 200
    data = request.POST if request.method == "POST" else request.GET
    month_text = data.get("month") or f"{_previous_month(clock.today()):%Y-%m}"
    node_text = data.get("node") or (str(nodes[0].pk) if nodes else "")
    if request.method == "POST":
        try:
            if not node_text.isdigit():
                raise ValidationFailed(_("Choose a place."))
            report = monthly_report_create(
                actor=actor,
                node_id=int(node_text),
                month=parse_month(month_text),
                language=get_language() or "",
            )
            return redirect("insight:report", report_id=report.pk)
        except ValidationFailed as failure:
            error, status = str(failure.message), 422
    context = {
        "nodes": nodes,
        "selected_node": node_text,
        "month": month_text,
        "latest_month": f"{clock.today():%Y-%m}",
        "error": error,
        "reports": monthly_report_list(actor=actor),
    }
    return render(request, "insight/report/list.html", context, status=status)


@staff_view
@require_GET
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = monthly_report_get(actor=request_actor(request), report_id=report_id)
    template = (
        "insight/report/_status.html" if getattr(request, "htmx", False) else "insight/report/detail.html"
    )
    return render(request, template, {"report": report})


@staff_view
@require_GET
def report_download(request: HttpRequest, report_id: int, kind: str) -> HttpResponseBase:
    report = monthly_report_get(actor=request_actor(request), report_id=report_id)
    if kind not in ("pdf", "xlsx") or report.status != ReportStatus.SUCCEEDED:
        raise NotFound()
    file = report.pdf_file if kind == "pdf" else report.xlsx_file
    if not file:
        raise NotFound()
    return FileResponse(
        file.open("rb"),
        as_attachment=True,
        filename=report_file_name(report, kind),
        content_type="application/pdf" if kind == "pdf" else XLSX,
    )


@staff_view
@require_GET
def tickets_export(request: HttpRequest) -> HttpResponse:
    """The ticket list with the filters of /tickets/, as xlsx: scoped, phones masked, names masked
    where the user may not reveal personal data; cut at EXPORT_LIMIT rows, and saying so."""
    actor = request_actor(request)
    categories = [(c.code, c.name) for c in Category.objects.order_by("order", "code").only("code", "name")]
    form = ticket_forms.TicketFilterForm(request.GET or None, categories=categories)
    filters, node = TicketFilters(), None
    if form.is_bound and not form.is_valid():
        raise ValidationFailed(str(form.errors.as_text()))
    if form.is_bound:
        data = form.cleaned_data
        node = node_get(actor=actor, node_id=data["node"]) if data["node"] else None  # 404 outside the scope
        filters = TicketFilters(
            state=data["state"],
            node_id=node.pk if node else None,
            category=data["category"],
            kind=data["kind"],
            channel=data["channel"],
            overdue=data["overdue"],
            query=data["q"],
        )
    export = tickets_export_xlsx(actor=actor, filters=filters, node=node, ip_address=client_ip(request))
    name = f"tickets-{clock.today():%Y%m%d}"
    if export.truncated:  # said in the file's first row too, and beside the export link
        name += f"-newest-{export.rows}-of-{export.total}"
    response = HttpResponse(export.content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
