"""The audit log for auditors and district admins: filter, page, export (each export audited)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.audit.forms import AuditFilterForm
from gongzhi.audit.models import AuditAction, AuditEntry, AuditEntryQuerySet
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.views import request_actor, staff_view

EXPORT_COLUMNS = (
    ("at", _("When")),
    ("actor_username", _("Who")),
    ("action", _("Action")),
    ("target_type", _("Object type")),
    ("target_id", _("Object id")),
    ("target_repr", _("Object")),
    ("field", _("Field")),
    ("reason", _("Reason")),
    ("ip_address", _("IP address")),
)
# An export is a snapshot for an inspection, not a backup: keep it to a size a spreadsheet opens.
EXPORT_ROW_LIMIT = 100_000


def _entries_for(actor: Actor) -> AuditEntryQuerySet:
    """Entries the actor may read; actors without the audit permission get 404 (not even a hint)."""
    if not actor.has_perm_anywhere(Perm.VIEW_AUDIT):
        raise NotFound()
    return AuditEntry.objects.visible_to(actor).order_by("-at", "-pk")


@staff_view
def entry_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    entries = _entries_for(actor)
    form = AuditFilterForm(request.GET or None)
    entries = form.apply(entries)
    page = Paginator(entries, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query_string": query.urlencode(),
        "export_query": query.urlencode(),
    }
    return render(request, "audit/list.html", context)


def _row(entry: AuditEntry) -> list[str]:
    values: list[str] = []
    for name, _label in EXPORT_COLUMNS:
        if name == "at":
            values.append(timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"))
        elif name == "action":
            values.append(str(entry.get_action_display()))
        else:
            values.append(str(getattr(entry, name) or ""))
    return values


def _csv_response(entries: AuditEntryQuerySet, filename: str) -> StreamingHttpResponse:
    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # BOM: Excel opens UTF-8 Chinese text correctly
        writer.writerow([str(label) for _name, label in EXPORT_COLUMNS])
        for entry in entries.iterator(chunk_size=2000):
            writer.writerow(_row(entry))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
        yield buffer.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _xlsx_response(entries: AuditEntryQuerySet, filename: str) -> HttpResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="audit")
    sheet.append([str(label) for _name, label in EXPORT_COLUMNS])
    for entry in entries.iterator(chunk_size=2000):
        sheet.append(_row(entry))
    output = io.BytesIO()
    workbook.save(output)
    response = HttpResponse(
        output.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


@staff_view
def export(request: HttpRequest) -> HttpResponseBase:
    actor = request_actor(request)
    entries = _entries_for(actor)
    export_format = request.GET.get("format", "xlsx")
    if export_format not in ("xlsx", "csv"):
        raise ValidationFailed(_("Choose xlsx or csv."), code="bad_format")
    form = AuditFilterForm(request.GET)
    entries = form.apply(entries)[:EXPORT_ROW_LIMIT]
    scope_paths = actor.paths_for(Perm.VIEW_AUDIT)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        target_type="audit.auditentry",
        target_repr=str(_("Audit log")),
        # An auditor of one subtree finds their own export in that subtree's log.
        node_path=scope_paths[0] if len(scope_paths) == 1 else "",
        changes={"format": export_format, "filters": form.applied_filters()},
        ip_address=request.META.get("REMOTE_ADDR"),
    )
    filename = f"gongzhi-audit-{clock.now():%Y%m%d-%H%M}"
    if export_format == "csv":
        return _csv_response(entries, filename)
    return _xlsx_response(entries, filename)
