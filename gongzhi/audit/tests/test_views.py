from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.testing import SmallTree, make_user
from gongzhi.people.services import person_reveal

pytestmark = pytest.mark.django_db


def _reveal(tree: SmallTree) -> None:
    worker = make_user("grid-wang", role=Role.GRID_WORKER, node=tree.grid_a)
    person_reveal(actor=resolve_actor(worker), person_id=tree.resident_a.pk, field="phone", reason="上门走访")


def test_audit_page_is_404_for_grid_worker(client: Client, tree: SmallTree) -> None:
    client.force_login(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    assert client.get(reverse("audit:list")).status_code == 404
    assert client.get(reverse("audit:export"), {"format": "csv"}).status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_auditor_sees_reveal_with_who_whose_field_and_why(client: Client, tree: SmallTree) -> None:
    _reveal(tree)
    client.force_login(make_user(role=Role.AUDITOR, node=tree.district))
    response = client.get(reverse("audit:list"), {"action": "reveal"})
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1
    assert "grid-wang" in html and "张秀英" in html and "上门走访" in html


def test_audit_filters_by_username_and_object(client: Client, tree: SmallTree) -> None:
    _reveal(tree)
    client.force_login(make_user(role=Role.AUDITOR, node=tree.district))
    assert client.get(reverse("audit:list"), {"username": "nobody"}).context["page"].paginator.count == 0
    page = client.get(reverse("audit:list"), {"username": "GRID-WANG", "target": "张秀"}).context["page"]
    assert page.paginator.count == 1


def test_auditor_of_other_subtree_does_not_see_entries(client: Client, tree: SmallTree) -> None:
    _reveal(tree)
    client.force_login(make_user(role=Role.AUDITOR, node=tree.grid_b))
    response = client.get(reverse("audit:list"), {"action": "reveal"})
    assert response.context["page"].paginator.count == 0


def test_xlsx_export_contains_filtered_rows_and_is_audited(client: Client, tree: SmallTree) -> None:
    _reveal(tree)
    auditor = make_user("auditor-zhao", role=Role.AUDITOR, node=tree.district)
    client.force_login(auditor)
    response = client.get(reverse("audit:export"), {"format": "xlsx", "action": "reveal"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2  # header + the one reveal
    assert "上门走访" in rows[1]
    export = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert export.actor_username == "auditor-zhao"
    assert export.changes == {"format": "xlsx", "filters": {"action": "reveal"}}
    assert export.node_path == tree.district.path


def test_csv_export_is_audited(client: Client, tree: SmallTree) -> None:
    _reveal(tree)
    client.force_login(make_user(role=Role.AUDITOR, node=tree.district))
    response = client.get(reverse("audit:export"), {"format": "csv", "action": "reveal"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_export_with_unknown_format_is_refused_and_not_audited(client: Client, tree: SmallTree) -> None:
    client.force_login(make_user(role=Role.AUDITOR, node=tree.district))
    assert client.get(reverse("audit:export"), {"format": "pdf"}).status_code == 422
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()
