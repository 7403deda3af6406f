"""Import and export use cases: upload a file as a job, run it in the worker, export xlsx."""

from __future__ import annotations

import gc
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, resolve_actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock, personal
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.imports.formats import (
    GENDER_NAMES,
    HEATING_NAMES,
    LEVEL_NAMES,
    NO_PROPERTY_MANAGER,
    RELATION_NAMES,
)
from gongzhi.imports.models import ImportJob, ImportKind, ImportPhase, ImportStatus
from gongzhi.imports.results import FILE_ROW, ImportResult, Progress, RowError, Rows, no_progress
from gongzhi.imports.roster import roster_import
from gongzhi.imports.territory import territory_import
from gongzhi.imports.workbook import build_export, check_xlsx, read_rows
from gongzhi.people.models import Person, Relation, Residency
from gongzhi.territory.models import Node, NodeKind

MAX_STORED_ERRORS = 1000  # a file with a wrong column can have an error on every row
PROGRESS_SECONDS = 6 * 3600


def _ensure_kind(kind: str) -> None:
    if kind not in ImportKind.values:
        raise ValidationFailed(_("Choose what the file contains."), code="bad_kind")


def import_rows(
    *, actor: Actor, kind: str, rows: Rows, dry_run: bool = False, progress: Progress = no_progress
) -> ImportResult:
    """Import rows already read from a file (or generated: the benchmark). All or nothing."""
    actor.ensure_has_perm(Perm.IMPORT_DATA)
    _ensure_kind(kind)
    importer = roster_import if kind == ImportKind.ROSTER else territory_import
    with _collector_paused():
        return importer(actor=actor, rows=rows, dry_run=dry_run, progress=progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """An import allocates millions of small acyclic objects (rows, cells, model instances),
    which makes the cyclic garbage collector run over and over for nothing: pause it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_file(
    *, actor: Actor, kind: str, file: IO[bytes] | str, dry_run: bool = False, progress: Progress = no_progress
) -> ImportResult:
    actor.ensure_has_perm(Perm.IMPORT_DATA)
    _ensure_kind(kind)
    progress(ImportPhase.READING, 0, 0)
    errors, rows = read_rows(file, kind)
    if errors:
        return ImportResult(errors=errors, dry_run=dry_run)
    return import_rows(actor=actor, kind=kind, rows=rows, dry_run=dry_run, progress=progress)


@transaction.atomic
def import_job_create(*, actor: Actor, kind: str, upload: UploadedFile, language: str = "") -> ImportJob:
    """Store an uploaded workbook (checked by content, not by name) and queue it for the worker."""
    actor.ensure_has_perm(Perm.IMPORT_DATA)
    _ensure_kind(kind)
    check_xlsx(upload, size=upload.size or 0, max_bytes=settings.IMPORT_MAX_BYTES)
    assert actor.user is not None
    job = ImportJob(
        created_by=actor.user,
        kind=kind,
        original_name=(upload.name or "")[:200],
        language=language or settings.LANGUAGE_CODE,
    )
    # The stored name is ours: never a path or a name chosen by the uploader.
    job.file.save(f"{uuid.uuid4().hex}.xlsx", upload, save=False)
    job.save()
    from gongzhi.imports.tasks import import_job_task

    transaction.on_commit(lambda: import_job_task(job.pk))
    return job


def _progress_key(job_id: int) -> str:
    return f"imports:job:{job_id}:progress"


def _job_progress(job_id: int) -> Progress:
    def report(phase: str, done: int, total: int) -> None:
        done = min(done, total)
        cache.set(_progress_key(job_id), {"phase": phase, "done": done, "total": total}, PROGRESS_SECONDS)
        # Inside the write transaction the row could not be seen by the page before the
        # commit anyway: the cache carries the live figure there.
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=job_id).update(phase=phase, progress_done=done, progress_total=total)

    return report


def import_job_live_progress(job: ImportJob) -> ImportJob:
    """The job with its live progress from the cache while a worker runs it."""
    if job.status == ImportStatus.RUNNING:
        live = cache.get(_progress_key(job.pk))
        if live:
            job.phase, job.progress_done, job.progress_total = live["phase"], live["done"], live["total"]
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued job (the worker calls this). Safe to call twice: only a queued job runs."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, phase=ImportPhase.READING, started_at=clock.now()
    )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    actor = resolve_actor(job.created_by)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            with job.file.open("rb") as file:
                result = import_file(actor=actor, kind=job.kind, file=file, progress=_job_progress(job.pk))
        except ApplicationError as error:
            result = ImportResult(errors=[RowError(FILE_ROW, "", str(error.message))])
        except DatabaseError:
            # A unique code or ID number taken by someone else between the check and the write.
            result = ImportResult(
                errors=[
                    RowError(
                        FILE_ROW,
                        "",
                        _(
                            "The data changed while the file was being imported. Nothing was written; import it again."
                        ),
                    )
                ]
            )
    errors = result.sorted_errors()
    summary = result.summary() if result.ok else {"error_count": len(errors)}
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportStatus.SUCCEEDED if result.ok else ImportStatus.FAILED,
        phase=ImportPhase.DONE,
        progress_done=result.rows,
        progress_total=result.rows,
        errors=[error.as_dict() for error in errors[:MAX_STORED_ERRORS]],
        summary=summary,
        finished_at=clock.now(),
    )
    cache.delete(_progress_key(job_id))
    job.refresh_from_db()
    return job


# --- exports ----------------------------------------------------------------------------------


def export_workbook(*, actor: Actor, kind: str, node_id: int) -> tuple[str, bytes]:
    """The subtree of a node in the import format, personal data masked. Audited."""
    _ensure_kind(kind)
    node = Node.objects.filter(pk=node_id).first()
    if node is None:
        raise NotFound()
    actor.ensure_can(Perm.IMPORT_DATA, node.path)
    rows = list(_roster_rows(node) if kind == ImportKind.ROSTER else _territory_rows(node))
    data = build_export(kind, rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        target=node,
        node_path=node.path,
        changes={"kind": kind, "rows": len(rows)},
    )
    filename = f"{kind}-{node.code}-{clock.today():%Y%m%d}.xlsx"
    return filename, data


def _codes_by_path(paths: set[str]) -> dict[str, str]:
    codes: dict[str, str] = {}
    ordered = sorted(paths)
    for start in range(0, len(ordered), 500):
        codes.update(Node.objects.filter(path__in=ordered[start : start + 500]).values_list("path", "code"))
    return codes


def _territory_rows(node: Node) -> Iterator[dict[str, Any]]:
    nodes = list(
        Node.objects.filter(path__startswith=node.path)
        .exclude(kind=NodeKind.HOUSEHOLD)
        .select_related("property_manager")
        .order_by("path")
    )
    codes = {n.path: n.code for n in nodes}
    codes.update(_codes_by_path({node.path[: -Node.steplen]} if node.depth > 1 else set()))
    for item in nodes:
        yield {
            "level": LEVEL_NAMES[item.kind],
            "code": item.code,
            "name": item.name,
            "parent_code": codes.get(item.path[: -Node.steplen], ""),
            "latitude": item.latitude,
            "longitude": item.longitude,
            "year_built": item.year_built,
            "heating": HEATING_NAMES.get(item.heating, ""),
            "property_manager": (
                (item.property_manager.name if item.property_manager else NO_PROPERTY_MANAGER)
                if item.kind == NodeKind.COMPOUND
                else None
            ),
            "floors": item.floors,
        }


def _roster_rows(node: Node) -> Iterator[dict[str, Any]]:
    households = list(
        Node.objects.filter(path__startswith=node.path, kind=NodeKind.HOUSEHOLD).order_by("path")
    )
    parent_codes = _codes_by_path({h.path[: -Node.steplen] for h in households})
    people: dict[int, list[Person]] = defaultdict(list)
    for person in (
        Person.objects.filter(home__path__startswith=node.path, home__kind=NodeKind.HOUSEHOLD)
        .prefetch_related("tags")
        .order_by("pk")
    ):
        people[person.home_id].append(person)
    residencies = {
        (r.person_id, r.household_id): r
        for r in Residency.objects.filter(household__path__startswith=node.path)
    }
    for household in households:
        base = {
            "building_code": parent_codes.get(household.path[: -Node.steplen], ""),
            "door_number": household.door_number,
            "floor_area": household.floor_area,
            "party_household": "是" if household.is_party_member_household else "否",
        }
        members = people.get(household.pk, [])
        if not members:
            yield base
        for person in members:
            residency = residencies.get((person.pk, household.pk))
            yield {
                **base,
                "name": person.name,
                # An export never carries whole personal data: masked cells are skipped on re-import.
                "phone": personal.mask_phone(person.phone),
                "id_number": person.masked_id_number,
                "gender": GENDER_NAMES.get(person.gender, ""),
                "birth_year": person.birth_year,
                "relation": RELATION_NAMES[residency.relation if residency else Relation.FAMILY],
                "share": residency.ownership_share if residency else None,
                "tags": ",".join(tag.name for tag in person.tags.all()),
            }
