from __future__ import annotations

import io

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.audit.models import AuditEntry
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.testing import make_user, superactor
from gongzhi.doorplates import services
from gongzhi.doorplates.models import Doorplate, PrintJob, PrintLayout, PrintStatus
from gongzhi.doorplates.services import (
    doorplate_issue,
    doorplate_path,
    doorplate_resolve,
    doorplates_for_subtree,
    plate_contents,
    plate_nodes,
    print_job_create,
    print_job_run,
)
from gongzhi.doorplates.tests.factories import PlateTree

pytestmark = pytest.mark.django_db


def test_plates_go_to_every_entrance_and_to_buildings_without_entrances(plates: PlateTree) -> None:
    tree = plates.tree
    assert plate_nodes(tree.community) == [plates.entrance_1, plates.entrance_2, tree.building_b]
    assert plate_nodes(tree.building_a) == [plates.entrance_1, plates.entrance_2]
    assert plate_nodes(plates.entrance_2) == [plates.entrance_2]
    assert plate_nodes(tree.grid_b) == [tree.building_b]


def test_printing_issues_missing_plates_once_and_keeps_existing_codes(plates: PlateTree) -> None:
    actor = resolve_actor(plates.community_staff)
    existing = doorplate_issue(actor=actor, node_id=plates.entrance_1.pk)

    first = doorplates_for_subtree(actor=actor, node_id=plates.tree.community.pk)
    second = doorplates_for_subtree(actor=actor, node_id=plates.tree.community.pk)

    assert [plate.token for plate in first] == [plate.token for plate in second]
    assert first[0].token == existing.token
    assert Doorplate.objects.count() == 3


def test_plate_contents_name_the_address_and_the_masked_grid_worker(plates: PlateTree) -> None:
    tree = plates.tree
    found = doorplates_for_subtree(actor=superactor(), node_id=tree.community.pk)

    with override_settings(SITE_URL="https://gz.example.org"):
        contents = plate_contents(found)

    assert [content.address for content in contents] == [
        ("奎星楼社区", "春都华府", "1号楼", "1单元"),
        ("奎星楼社区", "春都华府", "1号楼", "2单元"),
        ("奎星楼社区", "东苑小区", "3号楼"),
    ]
    assert contents[0].url == "https://gz.example.org" + doorplate_path(found[0])
    assert (contents[0].grid_worker, contents[0].grid_worker_phone) == ("张秀英", "138****1234")
    assert (contents[2].grid_worker, contents[2].grid_worker_phone) == ("王网格", "")


def test_a_grid_without_an_active_worker_prints_no_name(plates: PlateTree) -> None:
    plates.worker_b.is_active = False
    plates.worker_b.save(update_fields=["is_active"])
    found = doorplates_for_subtree(actor=superactor(), node_id=plates.tree.grid_b.pk)

    (content,) = plate_contents(found)

    assert (content.grid_worker, content.grid_worker_phone) == ("", "")


def test_a_grid_worker_of_grid_a_cannot_print_grid_b(plates: PlateTree) -> None:
    actor = resolve_actor(plates.worker_a)

    with pytest.raises(NotFound):
        print_job_create(actor=actor, node_id=plates.tree.grid_b.pk)
    with pytest.raises(NotFound):
        doorplates_for_subtree(actor=actor, node_id=plates.tree.building_b.pk)

    assert PrintJob.objects.count() == 0
    assert Doorplate.objects.count() == 0


def test_reissuing_needs_edit_network(plates: PlateTree) -> None:
    worker = resolve_actor(plates.worker_a)
    doorplates_for_subtree(actor=worker, node_id=plates.tree.grid_a.pk)
    before = list(Doorplate.objects.order_by("pk").values_list("token", flat=True))

    with pytest.raises(PermissionDenied):
        print_job_create(actor=worker, node_id=plates.tree.grid_a.pk, reissue=True)
    with pytest.raises(PermissionDenied):
        doorplates_for_subtree(actor=worker, node_id=plates.tree.grid_a.pk, reissue=True)

    assert list(Doorplate.objects.order_by("pk").values_list("token", flat=True)) == before
    assert PrintJob.objects.count() == 0
    staff = resolve_actor(plates.community_staff)
    assert print_job_create(actor=staff, node_id=plates.tree.grid_a.pk, reissue=True).reissue


def test_reissuing_a_subtree_replaces_every_code_and_is_audited(plates: PlateTree) -> None:
    staff = resolve_actor(plates.community_staff)
    old = doorplates_for_subtree(actor=staff, node_id=plates.tree.building_a.pk)

    new = doorplates_for_subtree(actor=staff, node_id=plates.tree.building_a.pk, reissue=True)

    assert [plate.node_id for plate in new] == [plate.node_id for plate in old]
    assert [plate.version for plate in new] == [2, 2]
    for before, after in zip(old, new, strict=True):
        assert doorplate_resolve(after.token).node_id == before.node_id
        with pytest.raises(NotFound):
            doorplate_resolve(before.token)
    entry = AuditEntry.objects.get(reason="reissue")
    assert entry.changes["plates"] == 2
    assert entry.node_path == plates.tree.building_a.path


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "abc.def",
        signing.Signer(salt="gongzhi.doorplate", sep=".").sign("guessed-random-part"),  # signed, unknown
        signing.Signer(salt="another.salt", sep=".").sign("x"),  # signed for another purpose
    ],
)
def test_forged_or_unknown_codes_are_not_found(plates: PlateTree, token: str) -> None:
    doorplates_for_subtree(actor=superactor(), node_id=plates.tree.community.pk)
    with pytest.raises(NotFound):
        doorplate_resolve(token)


def test_a_tampered_code_is_not_found(plates: PlateTree) -> None:
    plate = doorplate_issue(actor=None, node_id=plates.entrance_1.pk)
    random_part, signature = plate.token.rsplit(".", 1)
    with pytest.raises(NotFound):
        doorplate_resolve(f"{random_part}x.{signature}")
    with pytest.raises(NotFound):
        doorplate_resolve(f"{random_part}.{signature[::-1]}")


def test_places_without_plates_or_of_the_wrong_kind_are_refused(plates: PlateTree) -> None:
    root = superactor()
    with pytest.raises(ValidationFailed):
        print_job_create(actor=root, node_id=plates.tree.household_a1.pk)
    with pytest.raises(ValidationFailed):
        print_job_create(actor=root, node_id=plates.tree.district.pk)
    with pytest.raises(ValidationFailed):
        print_job_create(actor=root, node_id=plates.tree.community.pk, layout="poster")


def test_the_print_job_runs_in_the_worker_with_progress(
    plates: PlateTree, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr(services, "PROGRESS_EVERY", 1)
    actor = resolve_actor(plates.worker_a)

    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        job = print_job_create(actor=actor, node_id=plates.compound_a.pk, layout=PrintLayout.SINGLE)

    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == PrintStatus.SUCCEEDED
    assert (job.done, job.total) == (2, 2)
    assert job.started_at is not None and job.finished_at is not None
    with job.file.open("rb") as file:
        assert file.read(5) == b"%PDF-"
    progress_updates = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('UPDATE "doorplates_printjob"') and '"done" = 1' in query["sql"]
    ]
    assert len(progress_updates) == 1  # after the first of two plates


def test_running_a_job_twice_draws_it_once(plates: PlateTree, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = print_job_create(actor=superactor(), node_id=plates.tree.community.pk)
    finished = PrintJob.objects.get(pk=job.pk)

    again = print_job_run(job_id=job.pk)

    assert again.status == PrintStatus.SUCCEEDED
    assert (again.file.name, again.finished_at) == (finished.file.name, finished.finished_at)


def test_a_job_whose_requester_lost_the_right_fails_without_drawing(
    plates: PlateTree, django_capture_on_commit_callbacks
) -> None:
    staff = make_user("leaving", role=Role.COMMUNITY_STAFF, node=plates.tree.community)
    job = print_job_create(actor=resolve_actor(staff), node_id=plates.tree.community.pk, reissue=True)
    staff.role_assignments.update(ends_on="2020-01-02")

    finished = print_job_run(job_id=job.pk)

    assert finished.status == PrintStatus.FAILED
    assert finished.error
    assert not finished.file
    assert Doorplate.objects.count() == 0


def test_a_crash_while_drawing_marks_the_job_failed(
    plates: PlateTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = print_job_create(actor=superactor(), node_id=plates.tree.community.pk)

    def broken(*args: object, **kwargs: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(services.pdf, "render_pdf", broken)
    finished = print_job_run(job_id=job.pk)

    assert finished.status == PrintStatus.FAILED
    assert "disk full" not in finished.error


def test_rendering_writes_a_pdf_for_any_layout(plates: PlateTree) -> None:
    found = doorplates_for_subtree(actor=superactor(), node_id=plates.tree.community.pk)
    for layout in PrintLayout.values:
        out = io.BytesIO()
        assert services.doorplates_render(plates=found, layout=layout, out=out) == 3
        assert out.getvalue().startswith(b"%PDF-")


def test_reissuing_one_plate_makes_its_old_code_stop_working(plates: PlateTree) -> None:
    staff = resolve_actor(plates.community_staff)
    old = doorplate_issue(actor=staff, node_id=plates.entrance_1.pk)
    old_token = old.token

    with pytest.raises(PermissionDenied):
        doorplate_issue(actor=resolve_actor(plates.worker_a), node_id=plates.entrance_1.pk, reissue=True)
    new = doorplate_issue(actor=staff, node_id=plates.entrance_1.pk, reissue=True)

    assert new.version == 2
    assert doorplate_resolve(new.token).node == plates.entrance_1
    with pytest.raises(NotFound):
        doorplate_resolve(old_token)
    (content,) = plate_contents(doorplates_for_subtree(actor=staff, node_id=plates.entrance_1.pk))
    assert content.url.endswith(doorplate_path(new))
