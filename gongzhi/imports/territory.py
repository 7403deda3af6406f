"""Territory import (区划): nodes from district down to entrance, matched by code.

A parent may be a node already stored or another row of the same file, in any order; new
nodes are written generation by generation with `nodes_bulk_add_many`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.imports.formats import HEATING, LEVELS, NO_PROPERTY_MANAGER, TERRITORY_COLUMNS
from gongzhi.imports.parsing import RowReader, chunked, common_path, denied_reason, headers_of
from gongzhi.imports.results import Counts, ImportResult, Progress, RowError, Rows, no_progress
from gongzhi.territory.models import CHILD_KINDS, Node, NodeKind, Organization, OrganizationKind
from gongzhi.territory.services import NewNode, NodeSpec, node_create, nodes_bulk_add_many

HEADERS = headers_of(TERRITORY_COLUMNS)
# Attribute columns and the one kind each belongs to.
KIND_OF_ATTRIBUTE = {
    "year_built": NodeKind.COMPOUND,
    "heating": NodeKind.COMPOUND,
    "property_manager": NodeKind.COMPOUND,
    "floors": NodeKind.BUILDING,
}
UPDATABLE = ("name", "latitude", "longitude", "year_built", "heating", "property_manager", "floors")


@dataclass(slots=True)
class NodeRow:
    row: int
    kind: str
    code: str
    name: str
    parent_code: str
    attributes: dict[str, Any] = field(default_factory=dict)  # only the cells that were filled
    existing: Node | None = None
    parent: Node | None = None  # a stored parent (for a new node)


def territory_import(
    *, actor: Actor, rows: Rows, dry_run: bool = False, progress: Progress = no_progress
) -> ImportResult:
    """Import territory nodes, all or nothing."""
    row_list = list(rows)
    result = ImportResult(rows=len(row_list), dry_run=dry_run, counts={"nodes": Counts()})
    node_rows = _check(actor, row_list, result.errors, progress)
    if result.errors:
        return result
    changed = _plan(node_rows, result.counts["nodes"])
    if dry_run:
        return result
    with transaction.atomic():
        created = _write(actor, node_rows, changed, len(row_list), progress)
        # Where the actor acted: the stored parents of new nodes, the changed nodes, new districts.
        paths = [row.parent.path for row in node_rows if row.parent is not None]
        paths += [node.path for node in changed] + [node.path for node in created if node.depth == 1]
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            node_path=common_path(paths),
            target_type="imports.territory",
            target_repr=_("Territory: %(rows)d rows") % {"rows": len(row_list)},
            changes=result.summary(),
        )
    return result


def _check(
    actor: Actor, rows: list[tuple[int, dict]], errors: list[RowError], progress: Progress
) -> list[NodeRow]:
    managers = _property_managers(rows)
    node_rows: list[NodeRow] = []
    for index, (number, cells) in enumerate(rows, start=1):
        node_row = _read_row(RowReader(number, cells, HEADERS, errors), managers)
        if node_row is not None:
            node_rows.append(node_row)
        if index % 5000 == 0:
            progress("checking", index, len(rows))
    by_code: dict[str, NodeRow] = {}
    for node_row in node_rows:
        first = by_code.setdefault(node_row.code, node_row)
        if first is not node_row:
            errors.append(
                RowError(
                    node_row.row,
                    HEADERS["code"],
                    _("This code also appears on row %(row)d.") % {"row": first.row},
                )
            )
    stored = _stored_nodes({*by_code, *(r.parent_code for r in node_rows if r.parent_code)})
    parent_codes = _parent_codes([node for code, node in stored.items() if code in by_code])
    for node_row in node_rows:
        if by_code[node_row.code] is not node_row:
            continue
        node = stored.get(node_row.code)
        if node is not None:
            _check_existing(actor, node_row, node, parent_codes.get(node.pk, ""), errors)
        else:
            _check_new(actor, node_row, by_code, stored, errors)
    progress("checking", len(rows), len(rows))
    return [r for r in node_rows if by_code[r.code] is r]


def _read_row(reader: RowReader, managers: dict[str, Organization]) -> NodeRow | None:
    kind = reader.choice("level", LEVELS, required=True)
    code = reader.text("code", required=True, max_length=64)
    name = reader.text("name", required=True, max_length=100)
    parent_code = reader.text("parent_code", max_length=64)
    attributes: dict[str, Any] = {}
    for key, limit in (("latitude", Decimal(90)), ("longitude", Decimal(180))):
        raw, value = reader.decimal(key, places=6)
        if value is not None:
            if abs(value) > limit:
                reader.error(key, _("%(value)s is out of range.") % {"value": raw})
            else:
                attributes[key] = value
    year_built = reader.integer("year_built", low=1900, high=2100)
    heating = reader.choice("heating", HEATING)
    floors = reader.integer("floors", low=1, high=200)
    filled: dict[str, Any] = {"year_built": year_built, "heating": heating, "floors": floors}
    attributes.update({key: value for key, value in filled.items() if value is not None})
    manager = reader.text("property_manager")
    if manager == NO_PROPERTY_MANAGER:
        attributes["property_manager"] = None
    elif manager:
        if manager in managers:
            attributes["property_manager"] = managers[manager]
        else:
            reader.error("property_manager", _("Unknown property manager: %(name)s.") % {"name": manager})
    if kind is not None:
        for key in attributes:
            wanted = KIND_OF_ATTRIBUTE.get(key)
            if wanted is not None and wanted != kind:
                reader.error(
                    key, _("This column applies only to a %(kind)s.") % {"kind": NodeKind(wanted).label}
                )
    if kind is None or not code or not name:
        return None
    return NodeRow(reader.number, kind, code, name, parent_code, attributes)


def _property_managers(rows: list[tuple[int, dict]]) -> dict[str, Organization]:
    names = {str(cells.get("property_manager") or "").strip() for _, cells in rows} - {
        "",
        NO_PROPERTY_MANAGER,
    }
    managers: dict[str, Organization] = {}
    for batch in chunked(sorted(names)):
        for organization in Organization.objects.filter(
            kind=OrganizationKind.PROPERTY_MANAGER, name__in=batch
        ).order_by("-pk"):
            managers[organization.name] = organization  # the oldest wins when two share a name
    return managers


def _stored_nodes(codes: set[str]) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    for batch in chunked(sorted(codes)):
        for node in Node.objects.filter(code__in=batch):
            nodes[node.code] = node
    return nodes


def _parent_codes(nodes: list[Node]) -> dict[int, str]:
    parent_paths = {node.pk: node.path[: -Node.steplen] for node in nodes if node.depth > 1}
    codes: dict[str, str] = {}
    for batch in chunked(sorted(set(parent_paths.values()))):
        codes.update(Node.objects.filter(path__in=batch).values_list("path", "code"))
    return {pk: codes.get(path, "") for pk, path in parent_paths.items()}


def _check_existing(actor: Actor, row: NodeRow, node: Node, parent_code: str, errors: list[RowError]) -> None:
    reason = denied_reason(actor, node.path, _("The code %(code)s cannot be used.") % {"code": row.code})
    if reason:
        errors.append(RowError(row.row, HEADERS["code"], reason))
        return
    if node.kind != row.kind:
        errors.append(
            RowError(
                row.row,
                HEADERS["level"],
                _("The node %(code)s is a %(kind)s.") % {"code": row.code, "kind": NodeKind(node.kind).label},
            )
        )
        return
    if row.parent_code and row.parent_code != parent_code:
        errors.append(
            RowError(
                row.row,
                HEADERS["parent_code"],
                _("An import does not move nodes: move %(code)s in the tree instead.") % {"code": row.code},
            )
        )
        return
    row.existing = node


def _check_new(
    actor: Actor, row: NodeRow, by_code: dict[str, NodeRow], stored: dict[str, Node], errors: list[RowError]
) -> None:
    if not row.parent_code:
        if row.kind != NodeKind.DISTRICT:
            errors.append(RowError(row.row, HEADERS["parent_code"], _("A value is required.")))
        elif not actor.is_superuser:
            errors.append(
                RowError(row.row, HEADERS["level"], _("Only a system administrator can create a district."))
            )
        return
    unknown = _("Unknown parent code: %(code)s.") % {"code": row.parent_code}
    parent_row = by_code.get(row.parent_code)
    parent_node = stored.get(row.parent_code)
    if parent_node is not None:
        reason = denied_reason(actor, parent_node.path, unknown)
        if reason:
            errors.append(RowError(row.row, HEADERS["parent_code"], reason))
            return
        parent_kind = parent_node.kind
        row.parent = parent_node
    elif parent_row is not None:
        parent_kind = parent_row.kind
    else:
        errors.append(RowError(row.row, HEADERS["parent_code"], unknown))
        return
    if row.kind not in CHILD_KINDS[NodeKind(parent_kind)]:
        errors.append(
            RowError(
                row.row,
                HEADERS["level"],
                _("A %(child)s cannot be placed under a %(parent)s.")
                % {"child": NodeKind(row.kind).label, "parent": NodeKind(parent_kind).label},
            )
        )


def _plan(rows: list[NodeRow], counts: Counts) -> list[Node]:
    """Apply the changes to the stored nodes in memory; return those that changed."""
    changed: list[Node] = []
    for row in rows:
        node = row.existing
        if node is None:
            counts.created += 1
            continue
        values = {"name": row.name, **row.attributes}
        differs = False
        for key, value in values.items():
            current = node.property_manager_id if key == "property_manager" else getattr(node, key)
            wanted = value.pk if key == "property_manager" and value is not None else value
            if current != wanted:
                setattr(node, key, value)
                differs = True
        if differs:
            changed.append(node)
            counts.updated += 1
        else:
            counts.unchanged += 1
    return changed


def _write(
    actor: Actor, rows: list[NodeRow], changed: list[Node], total: int, progress: Progress
) -> list[Node | NewNode]:
    if changed:
        Node.objects.bulk_update(changed, list(UPDATABLE), batch_size=1000)
    resolved: dict[str, Node | NewNode] = {row.code: row.existing for row in rows if row.existing is not None}
    pending = [row for row in rows if row.existing is None]
    created: list[Node | NewNode] = []
    for row in [r for r in pending if not r.parent_code]:  # new districts (superusers only)
        node = node_create(
            actor=actor, parent=None, kind=row.kind, code=row.code, name=row.name, **row.attributes
        )
        resolved[row.code] = node
        created.append(node)
    pending = [row for row in pending if row.parent_code]
    while pending:
        ready: dict[str, list[NodeRow]] = defaultdict(list)
        waiting: list[NodeRow] = []
        for row in pending:
            parent = row.parent or resolved.get(row.parent_code)
            if parent is None:
                waiting.append(row)
            else:
                resolved.setdefault(row.parent_code, parent)
                ready[row.parent_code].append(row)
        if not ready:  # cannot happen after _check: kinds only go down the tree
            raise RuntimeError("territory import: unresolvable parents")
        groups = [
            (resolved[parent_code], [NodeSpec(r.kind, r.code, r.name, dict(r.attributes)) for r in children])
            for parent_code, children in ready.items()
        ]
        for start in range(0, len(groups), 1000):
            for new_node in nodes_bulk_add_many(groups[start : start + 1000]):
                resolved[new_node.code] = new_node
                created.append(new_node)
            progress("writing", min(len(created), total), total)
        pending = waiting
    progress("writing", total, total)
    return created
