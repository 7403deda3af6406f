"""Issuing and resolving doorplate codes."""

from __future__ import annotations

import secrets

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.doorplates.models import Doorplate
from gongzhi.territory.models import Node, NodeKind

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
