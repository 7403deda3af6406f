"""Issuing and resolving doorplate codes, and printing them as a job in the worker."""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TypeVar

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, resolve_actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.core.personal import mask_phone
from gongzhi.doorplates import pdf
from gongzhi.doorplates.models import Doorplate, PrintJob, PrintLayout, PrintStatus
from gongzhi.territory.models import Node, NodeKind, subtree_q

logger = logging.getLogger(__name__)
T = TypeVar("T")

PLATE_KINDS = frozenset({NodeKind.ENTRANCE, NodeKind.BUILDING})
_signer = signing.Signer(salt="gongzhi.doorplate", sep=".")


def _new_token() -> str:
    return _signer.sign(secrets.token_urlsafe(12))


def doorplate_path(plate: Doorplate) -> str:
    """The address printed in the QR code (relative; prefix it with the site's address)."""
    return reverse("tickets:doorplate", args=[plate.token])


def doorplate_for(node: Node, *, actor: Actor | None = None) -> Doorplate:
    """The node's current plate, issued on first use."""
    plate = Doorplate.objects.filter(node=node).first()
    if plate is not None:
        return plate
    return doorplate_issue(actor=actor, node_id=node.pk)


@transaction.atomic
def doorplate_issue(*, actor: Actor | None, node_id: int, reissue: bool = False) -> Doorplate:
    """Issue a node's plate, or with `reissue` replace its code (the old one stops working)."""
    node = Node.objects.filter(pk=node_id).first()
    if node is None:
        raise NotFound()
    if actor is not None:
        actor.ensure_can(Perm.EDIT_NETWORK if reissue else Perm.VIEW_NETWORK, node.path)
    if node.kind not in PLATE_KINDS:
        raise ValidationFailed(_("Doorplates are printed for entrances and buildings."))
    now = clock.now()
    plate = Doorplate.objects.select_for_update().filter(node=node).first()
    user = actor.user if actor is not None else None
    if plate is None:
        return Doorplate.objects.create(node=node, token=_new_token(), issued_at=now, issued_by=user)
    if not reissue:
        return plate
    plate.token, plate.version, plate.issued_at, plate.issued_by = _new_token(), plate.version + 1, now, user
    plate.save(update_fields=["token", "version", "issued_at", "issued_by"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=plate,
        node_path=node.path,
        field="token",
        reason="reissue",
        changes={"version": plate.version},
    )
    return plate


def doorplate_resolve(token: str) -> Doorplate:
    """The plate behind a scanned code; NotFound for forged, reissued or unknown codes."""
    try:
        _signer.unsign(token)
    except signing.BadSignature:
        raise NotFound() from None
    plate = Doorplate.objects.select_related("node").filter(token=token).first()
    if plate is None:
        raise NotFound()
    return plate


# --- plates of a whole subtree -----------------------------------------------------------------

# Places whose plates can be printed in one go: the plates of every entrance below them (and of
# every building without entrances).
PRINTABLE_KINDS = frozenset(
    {
        NodeKind.COMMUNITY,
        NodeKind.GRID,
        NodeKind.MICRO_GRID,
        NodeKind.COMPOUND,
        NodeKind.BUILDING,
        NodeKind.ENTRANCE,
    }
)
# The levels named on a plate, from the top down (grids are a working division, not an address).
ADDRESS_KINDS = (NodeKind.COMMUNITY, NodeKind.COMPOUND, NodeKind.BUILDING, NodeKind.ENTRANCE)
PROGRESS_EVERY = 25  # plates between two progress updates of a print job
_CHUNK = 500  # ids per IN (…) list


def _chunks(items: Sequence[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), _CHUNK):
        yield list(items[start : start + _CHUNK])


def plate_nodes(node: Node) -> list[Node]:
    """The nodes that get a plate below (or at) `node`, in tree order: every entrance, and every
    building that has no entrances."""
    if node.kind == NodeKind.ENTRANCE:
        return [node]
    rows = list(
        Node.objects.filter(subtree_q("path", node.path), kind__in=[NodeKind.BUILDING, NodeKind.ENTRANCE])
        .only("id", "path", "depth", "kind", "name")
        .order_by("path")
    )
    with_entrances = {row.path[: -Node.steplen] for row in rows if row.kind == NodeKind.ENTRANCE}
    return [row for row in rows if row.kind == NodeKind.ENTRANCE or row.path not in with_entrances]


def _ensure_printable(actor: Actor, node: Node, *, reissue: bool) -> None:
    actor.ensure_can(Perm.VIEW_NETWORK, node.path)
    if reissue:
        actor.ensure_can(Perm.EDIT_NETWORK, node.path)
    if node.kind not in PRINTABLE_KINDS:
        raise ValidationFailed(
            _("Doorplates are printed for a community, grid, compound, building or entrance."),
            code="not_printable",
        )


@transaction.atomic
def doorplates_for_subtree(*, actor: Actor, node_id: int, reissue: bool = False) -> list[Doorplate]:
    """The current plates of every plate node below a node, issued where missing; with
    `reissue` every code is replaced (the old printed codes stop working). Tree order."""
    node = Node.objects.filter(pk=node_id).first()
    if node is None:
        raise NotFound()
    _ensure_printable(actor, node, reissue=reissue)
    nodes = plate_nodes(node)
    ids = [item.pk for item in nodes]
    now, user = clock.now(), actor.user
    existing: dict[int, Doorplate] = {}
    for chunk in _chunks(ids):
        plates = Doorplate.objects.filter(node_id__in=chunk)
        for plate in plates.select_for_update() if reissue else plates:
            existing[plate.node_id] = plate
    if reissue and existing:
        for plate in existing.values():
            plate.token, plate.version, plate.issued_at, plate.issued_by = (
                _new_token(),
                plate.version + 1,
                now,
                user,
            )
        Doorplate.objects.bulk_update(
            list(existing.values()), ["token", "version", "issued_at", "issued_by"], batch_size=_CHUNK
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=node,
            node_path=node.path,
            field="doorplate_token",
            reason="reissue",
            changes={
                "plates": len(existing),
                "doorplate_ids": sorted(plate.pk for plate in existing.values()),
            },
        )
    missing = [item for item in nodes if item.pk not in existing]
    if missing:
        # ignore_conflicts: a plate issued meanwhile by another request wins; it is read below.
        Doorplate.objects.bulk_create(
            [Doorplate(node=item, token=_new_token(), issued_at=now, issued_by=user) for item in missing],
            batch_size=_CHUNK,
            ignore_conflicts=True,
        )
        for chunk in _chunks([item.pk for item in missing]):
            existing.update({plate.node_id: plate for plate in Doorplate.objects.filter(node_id__in=chunk)})
    by_id = {item.pk: item for item in nodes}
    result = [existing[item.pk] for item in nodes]
    for plate in result:
        plate.node = by_id[plate.node_id]
    return result


# --- what a plate says --------------------------------------------------------------------------


@dataclass(frozen=True)
class GridWorker:
    name: str
    phone: str  # masked


def grid_workers(grid_ids: Sequence[int]) -> dict[int, GridWorker]:
    """The grid worker printed on the plates of each grid: the longest-serving active one."""
    found: dict[int, GridWorker] = {}
    for chunk in _chunks(list(grid_ids)):
        assignments = (
            RoleAssignment.objects.active_on(clock.today())
            .filter(role=Role.GRID_WORKER, node_id__in=chunk, user__is_active=True)
            .select_related("user__person")
            .order_by("starts_on", "pk")
        )
        for assignment in assignments:
            if assignment.node_id is not None and assignment.node_id not in found:
                found[assignment.node_id] = _grid_worker(assignment.user)
    return found


def _grid_worker(user: User) -> GridWorker:
    person = user.person
    if person is not None:
        return GridWorker(person.name, mask_phone(person.phone))
    return GridWorker(user.display_name or user.get_full_name() or user.get_username(), "")


def plate_contents(plates: Sequence[Doorplate]) -> list[pdf.PlateContent]:
    """What each plate says, in a few queries for any number of plates (their nodes loaded)."""
    wanted = {path for plate in plates for path in plate.node.ancestor_paths}
    ancestors: dict[str, Node] = {}
    for chunk in _chunks(sorted(wanted)):
        for ancestor in Node.objects.filter(path__in=chunk).only("id", "path", "depth", "kind", "name"):
            ancestors[ancestor.path] = ancestor
    grid_of: dict[int, int] = {}
    for plate in plates:
        for path in plate.node.ancestor_paths:
            if path in ancestors and ancestors[path].kind == NodeKind.GRID:
                grid_of[plate.pk] = ancestors[path].pk
    workers = grid_workers(sorted(set(grid_of.values())))
    base = settings.SITE_URL.rstrip("/")
    contents = []
    for plate in plates:
        levels = [ancestors[path] for path in plate.node.ancestor_paths if path in ancestors]
        address = tuple(level.name for level in levels if level.kind in ADDRESS_KINDS)
        worker = workers.get(grid_of.get(plate.pk, 0))
        contents.append(
            pdf.PlateContent(
                url=base + doorplate_path(plate),
                address=address,
                grid_worker=worker.name if worker else "",
                grid_worker_phone=worker.phone if worker else "",
            )
        )
    return contents


def doorplates_render(
    *,
    plates: Sequence[Doorplate],
    layout: str,
    out: IO[bytes],
    title: str = "",
    progress: pdf.Progress | None = None,
) -> int:
    """Draw the plates as a PDF into the binary file `out`, in the active language."""
    return pdf.render_pdf(
        plate_contents(plates),
        layout=layout,
        labels=pdf.plate_labels(),
        out=out,
        title=title,
        progress=progress,
    )


# --- print jobs -----------------------------------------------------------------------------------


@transaction.atomic
def print_job_create(
    *, actor: Actor, node_id: int, layout: str = PrintLayout.SHEETS, reissue: bool = False, language: str = ""
) -> PrintJob:
    """Queue the printing of every plate below a node; the worker draws them after the commit.
    Reissuing (every old code stops working) needs EDIT_NETWORK there."""
    node = Node.objects.filter(pk=node_id).first()
    if node is None:
        raise NotFound()
    _ensure_printable(actor, node, reissue=reissue)
    if layout not in PrintLayout.values:
        raise ValidationFailed(_("Choose how the plates are laid out."), code="bad_layout")
    total = len(plate_nodes(node))
    if not total:
        raise ValidationFailed(
            _("There is no entrance or building here to print a plate for."), code="no_plates"
        )
    assert actor.user is not None
    job = PrintJob.objects.create(
        node=node,
        requested_by=actor.user,
        layout=layout,
        reissue=reissue,
        language=language or settings.LANGUAGE_CODE,
        total=total,
    )
    from gongzhi.doorplates.tasks import print_job_task

    transaction.on_commit(lambda: print_job_task(job.pk))
    return job


def print_job_run(*, job_id: int) -> PrintJob:
    """Run a queued job (the worker calls this). Safe to call twice: only a queued job runs."""
    claimed = PrintJob.objects.filter(pk=job_id, status=PrintStatus.QUEUED).update(
        status=PrintStatus.RUNNING, started_at=clock.now()
    )
    job = PrintJob.objects.select_related("node", "requested_by").get(pk=job_id)
    if not claimed:
        return job
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            _print(job)
        except ApplicationError as error:
            _fail(job, str(error.message))
        except Exception:
            logger.exception("Doorplate print job %s failed", job_id)
            _fail(job, _("Printing failed. Try again, or tell the administrator."))
    job.refresh_from_db()
    return job


def _print(job: PrintJob) -> None:
    # The requester's rights today, not when they asked: a role may have ended meanwhile.
    actor = resolve_actor(job.requested_by)
    plates = doorplates_for_subtree(actor=actor, node_id=job.node_id, reissue=job.reissue)
    total = len(plates)
    PrintJob.objects.filter(pk=job.pk).update(total=total, done=0)

    def progress(done: int) -> None:
        if done % PROGRESS_EVERY == 0 and done < total:
            PrintJob.objects.filter(pk=job.pk).update(done=done)

    title = _("Doorplates: %(place)s") % {"place": job.node.name}
    with tempfile.TemporaryFile() as out:
        doorplates_render(plates=plates, layout=job.layout, out=out, title=title, progress=progress)
        out.seek(0)
        name = f"doorplates-{job.node.code}-{job.pk}.pdf"
        job.file.save(name, File(out, name=name), save=False)
    PrintJob.objects.filter(pk=job.pk).update(
        file=job.file.name, status=PrintStatus.SUCCEEDED, done=total, finished_at=clock.now()
    )


def _fail(job: PrintJob, message: str) -> None:
    PrintJob.objects.filter(pk=job.pk).update(
        status=PrintStatus.FAILED, error=message, finished_at=clock.now()
    )
