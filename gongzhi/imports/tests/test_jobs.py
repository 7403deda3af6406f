from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from gongzhi.accounts.models import Role, User
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.testing import SmallTree, make_user
from gongzhi.imports.models import ImportJob, ImportStatus
from gongzhi.imports.services import import_job_run
from gongzhi.imports.tests.factories import xlsx_bytes
from gongzhi.imports.tests.test_roster import good_rows
from gongzhi.people.models import Person
from gongzhi.territory.models import Node

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture
def staff(tree: SmallTree) -> User:
    return make_user("kxl-staff", role=Role.COMMUNITY_STAFF, node=tree.community)


@pytest.fixture
def staff_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def upload(client: Client, data: bytes, *, kind: str = "roster", name: str = "名单.xlsx") -> Any:
    return client.post(reverse("imports:new"), {"kind": kind, "file": SimpleUploadedFile(name, data)})


def test_upload_runs_in_the_worker_and_records_progress_and_summary(
    staff_client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff_client, xlsx_bytes("roster", good_rows()))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    assert (job.status, job.phase, job.original_name) == (ImportStatus.SUCCEEDED, "done", "名单.xlsx")
    assert (job.progress_done, job.progress_total, job.percent) == (5, 5, 100)
    assert job.summary["people"] == {"created": 4, "updated": 0, "unchanged": 0}
    assert job.started_at is not None and job.finished_at is not None
    assert job.file.name.startswith("imports/") and "名单" not in job.file.name
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT, actor_username="kxl-staff").count() == 1
    html = staff_client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "5 rows imported." in html
    assert "hx-trigger" not in html  # finished: no more polling


def test_failed_job_page_shows_the_error_table(
    staff_client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    rows = good_rows()
    rows[4]["phone"] = "12345"
    rows[2]["relation"] = "房东"
    people = Person.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, xlsx_bytes("roster", rows))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED
    assert job.errors == [
        {"row": 4, "column": "与户关系", "reason": "房东 is not one of: 业主、租户、家庭成员."},
        {
            "row": 6,
            "column": "手机号",
            "reason": "12345 is not a valid phone number (an 11-digit mobile or a landline).",
        },
    ]
    assert Person.objects.count() == people
    html = staff_client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "Nothing was written: the file has 2 errors." in html
    assert '<td class="num">6</td><td>手机号</td><td>12345 is not a valid phone number' in html
    assert '<td class="num">4</td><td>与户关系</td>' in html


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("姓名,手机号\n张三,13800000000\n".encode(), id="csv-renamed"),
        pytest.param(b"%PDF-1.4 not a workbook", id="pdf-renamed"),
        pytest.param(b"", id="empty"),
    ],
)
def test_a_file_that_is_not_xlsx_is_refused_whatever_its_name(staff_client: Client, data: bytes) -> None:
    response = upload(staff_client, data)
    assert response.status_code == 422
    if data:
        assert "The file is not an Excel workbook (.xlsx)." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_zip_without_a_workbook_is_refused(staff_client: Client) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("word/document.xml", "<w/>")
        package.writestr("[Content_Types].xml", "<Types/>")
    response = upload(staff_client, buffer.getvalue())
    assert response.status_code == 422
    assert "The file is not an Excel workbook (.xlsx)." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_over_the_size_limit_is_refused(staff_client: Client, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 200 * 1024
    data = xlsx_bytes("roster", good_rows() * 2000)
    assert len(data) > settings.IMPORT_MAX_BYTES
    response = upload(staff_client, data)
    assert response.status_code == 422
    assert "The file is too large (at most 200.0 KB)." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_running_job_page_polls_with_live_progress(staff_client: Client, staff: User) -> None:
    job = ImportJob.objects.create(
        created_by=staff, kind="roster", status=ImportStatus.RUNNING, phase="checking"
    )
    cache.set(f"imports:job:{job.pk}:progress", {"phase": "writing", "done": 300, "total": 1200})
    response = staff_client.get(reverse("imports:detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.templates[0].name == "imports/_job_status.html"
    assert 'hx-trigger="every 2s"' in html
    assert 'value="300" max="1200"' in html
    assert "Writing — 300 of 1200 rows" in html


def test_another_users_job_is_not_found(client: Client, staff: User, tree: SmallTree) -> None:
    job = ImportJob.objects.create(created_by=staff, kind="roster")
    client.force_login(make_user(role=Role.COMMUNITY_STAFF, node=tree.community))
    assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 404


def test_running_a_job_twice_imports_once(
    staff_client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, xlsx_bytes("roster", good_rows()))
    job = ImportJob.objects.get()
    assert import_job_run(job_id=job.pk).status == ImportStatus.SUCCEEDED
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT).count() == 1


def test_grid_worker_has_no_import_page(client: Client, tree: SmallTree) -> None:
    client.force_login(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    assert client.get(reverse("imports:new")).status_code == 403
    assert client.get(reverse("imports:template", args=["roster"])).status_code == 403


def test_upload_page_offers_both_templates_and_they_are_workbooks_with_notes(staff_client: Client) -> None:
    html = staff_client.get(reverse("imports:new")).content.decode()
    for kind in ("territory", "roster"):
        url = reverse("imports:template", args=[kind])
        assert url in html
        response = staff_client.get(url)
        assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        workbook = load_workbook(io.BytesIO(response.content))
        assert workbook.sheetnames[1] == "说明"
        headers = [cell.value for cell in workbook.worksheets[0][1]]
        assert headers[:2] == (["楼栋编码", "门牌号"] if kind == "roster" else ["层级", "编码"])
        assert workbook.worksheets[0].max_row >= 2  # the example row
    assert staff_client.get(reverse("imports:template", args=["nothing"])).status_code == 404


def test_export_view_downloads_masked_xlsx_in_scope_only(staff_client: Client, tree: SmallTree) -> None:
    url = reverse("imports:export")
    response = staff_client.get(url, {"kind": "roster", "node": tree.community.pk})
    assert response.status_code == 200
    cells = [
        v
        for row in load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True)
        for v in row
    ]
    assert "138****1234" in cells and "13812341234" not in cells
    assert staff_client.get(url, {"kind": "roster", "node": tree.district.pk}).status_code == 404
    assert staff_client.get(url, {"kind": "roster"}).status_code == 422


def test_command_prints_errors_and_exits_non_zero(tree: SmallTree, staff: User, tmp_path: Any) -> None:
    rows = good_rows()
    rows[1]["id_number"] = "370882195203120010"
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx_bytes("roster", rows))
    errors = io.StringIO()
    count = Node.objects.count()
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_xlsx", str(path), "--kind", "roster", "--user", "kxl-staff", stderr=errors)
    assert errors.getvalue() == "row 3\t身份证号\tThe ID number's check digit is wrong.\n"
    assert Node.objects.count() == count


def test_command_dry_run_then_import_prints_counts(tree: SmallTree, staff: User, tmp_path: Any) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx_bytes("roster", good_rows()))
    out = io.StringIO()
    call_command("import_xlsx", str(path), "--kind", "roster", "--user", "kxl-staff", "--dry-run", stdout=out)
    assert out.getvalue().splitlines()[0] == "dry run, nothing written: 5 rows"
    assert not Node.objects.filter(code="KXL-CDHF-1-201").exists()
    out = io.StringIO()
    call_command("import_xlsx", str(path), "--kind", "roster", "--user", "kxl-staff", stdout=out)
    assert out.getvalue().splitlines() == [
        "5 rows",
        "households: created 3, updated 0, unchanged 0",
        "people: created 4, updated 0, unchanged 0",
    ]


def test_command_refuses_a_renamed_text_file(tree: SmallTree, staff: User, tmp_path: Any) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_text("not a workbook")
    with pytest.raises(CommandError, match="not an Excel workbook"):
        call_command("import_xlsx", str(path), "--kind", "roster", "--user", "kxl-staff")
