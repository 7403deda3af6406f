"""Writes to the one network: nodes (one by one and in bulk), moves, renames, counts."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core.errors import ValidationFailed
from gongzhi.territory.models import CHILD_KINDS, ROOT_KINDS, Node, NodeKind, NodeStats, subtree_q
from gongzhi.territory.signals import node_moved

logger = logging.getLogger(__name__)

STAT_FIELDS = ("households", "residents", "party_members", "building_leaders")
NODE_ATTRIBUTES = (
    "latitude",
    "longitude",
    "boundary",
    "year_built",
    "heating",
    "property_manager",
    "floors",
    "door_number",
    "floor_area",
    "is_party_member_household",
    "is_developer_unsold",
)


def ensure_child_kind(parent: Node | None, kind: str) -> None:
    if parent is None:
        if kind not in ROOT_KINDS:
            raise ValidationFailed(_("Only a district can be the root of the tree."), code="bad_tree_shape")
        return
    if kind not in CHILD_KINDS[NodeKind(parent.kind)]:
        raise ValidationFailed(
            _("A %(child)s cannot be placed under a %(parent)s.")
            % {"child": NodeKind(kind).label, "parent": NodeKind(parent.kind).label},
            code="bad_tree_shape",
        )


def _validate(node: Node) -> None:
    try:
        # path/depth are assigned by the tree; uniqueness of code is checked here too.
        node.full_clean(exclude=["path", "depth", "numchild"])
    except ValidationError as exc:
        raise ValidationFailed(
            "; ".join(exc.messages), code="invalid_node", extra={"fields": exc.message_dict}
        ) from exc


def stats_adjust(paths: Iterable[str], *, floor_at_zero: bool = False, **deltas: int) -> None:
    """Add `deltas` to the roll-up rows of the nodes with these paths (a node and its ancestors).
    `floor_at_zero`: never below 0 (repairs of counts that may not have included what is taken)."""
    changes: dict[str, Any] = {
        name: Greatest(F(name) + delta, Value(0)) if floor_at_zero and delta < 0 else F(name) + delta
        for name, delta in deltas.items()
        if delta
    }
    if changes:
        NodeStats.objects.filter(node__path__in=list(paths)).update(**changes)


@transaction.atomic
def node_create(
    *, actor: Actor, parent: Node | None, kind: str, code: str, name: str, **attributes: Any
) -> Node:
    if parent is None:
        if not actor.is_superuser:
            raise ValidationFailed(
                _("Only a system administrator can create a district."), code="permission_denied"
            )
    else:
        actor.ensure_can(Perm.EDIT_NETWORK, parent.path)
    ensure_child_kind(parent, kind)
    node = Node(kind=kind, code=code, name=name, **attributes)
    _validate(node)
    node = (
        Node.objects.add_root(instance=node)
        if parent is None
        else Node.objects.add_child(parent, instance=node)
    )
    NodeStats.objects.create(node=node)
    if kind == NodeKind.HOUSEHOLD:
        stats_adjust(node.ancestor_paths, households=1)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=node,
        node_path=node.path,
        changes={"kind": kind, "code": code, "name": name},
    )
    return node


@transaction.atomic
def node_update(*, actor: Actor, node_id: int, **changes: Any) -> Node:
    node = Node.objects.select_for_update().get(pk=node_id)
    actor.ensure_can(Perm.EDIT_NETWORK, node.path)
    allowed = {"name", "code", *NODE_ATTRIBUTES}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    before = {key: str(getattr(node, key)) for key in changes}
    for key, value in changes.items():
        setattr(node, key, value)
    _validate(node)
    node.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=node,
        node_path=node.path,
        changes={
            key: [before[key], str(value)] for key, value in changes.items() if before[key] != str(value)
        },
    )
    return node


@transaction.atomic
def node_move(*, actor: Actor, node_id: int, new_parent_id: int) -> Node:
    """Move a node with its subtree under a new parent. Foreign keys (ids) stay valid;
    paths are rewritten by the tree, and the counts of old and new ancestors follow."""
    node = Node.objects.select_for_update().get(pk=node_id)
    new_parent = Node.objects.select_for_update().get(pk=new_parent_id)
    actor.ensure_can(Perm.EDIT_NETWORK, node.path)
    actor.ensure_can(Perm.EDIT_NETWORK, new_parent.path)
    ensure_child_kind(new_parent, node.kind)
    if new_parent.path.startswith(node.path):
        raise ValidationFailed(_("A node cannot be moved under itself."), code="bad_tree_shape")
    old_path = node.path
    stats = NodeStats.objects.filter(node=node).first()
    if stats is not None:
        deltas = {name: getattr(stats, name) for name in STAT_FIELDS}
        stats_adjust(node.ancestor_paths[:-1], **{k: -v for k, v in deltas.items()})
    else:
        deltas = _stats_repair_before_move(node)
    Node.objects.move(node, new_parent, "last-child")
    node.refresh_from_db()
    new_parent.refresh_from_db()
    stats_adjust(new_parent.ancestor_paths, **deltas)
    audit_record(
        actor=actor,
        action=AuditAction.MOVE,
        target=node,
        node_path=node.path,
        changes={"path": [old_path, node.path], "parent": new_parent.pk},
    )
    node_moved.send(sender=Node, node=node)
    return node


def _stats_repair_before_move(node: Node) -> dict[str, int]:
    """A node without its roll-up row was added outside the services: whether its ancestors
    counted its subtree is unknown. Give it its row from the raw tables, move those figures
    without taking any ancestor below zero, and rebuild every count in the worker after commit
    (so the tree's counts are exact again however they had drifted)."""
    from gongzhi.territory.tasks import stats_rebuild_task

    logger.warning("node %s (%s) had no NodeStats row: counts rebuilt after the move", node.pk, node.code)
    deltas = stats_of_subtree(node.path)
    NodeStats.objects.create(node=node, **deltas)
    stats_adjust(node.ancestor_paths[:-1], floor_at_zero=True, **{k: -v for k, v in deltas.items()})
    transaction.on_commit(stats_rebuild_task)
    return deltas


@dataclass
class NodeSpec:
    """One node to add in bulk: kind, code, name, and kind-specific attributes."""

    kind: str
    code: str
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)


def _step(number: int) -> str:
    key = Node._int2str(number)
    if len(key) > Node.steplen:
        raise ValidationFailed(_("Too many children under one node."), code="path_overflow")
    return Node.alphabet[0] * (Node.steplen - len(key)) + key


def nodes_bulk_add(parent: Node, specs: Sequence[NodeSpec], *, batch_size: int = 2000) -> list[Node]:
    """Append many children to `parent` in a few queries (imports, the demo, benchmarks).

    Trusted callers only: validate and check permissions before. Must run inside a
    transaction; the parent row is locked so two bulk adds never compute the same paths.
    Creates the children's NodeStats rows and counts new households on the ancestors.
    """
    parent = Node.objects.select_for_update().get(pk=parent.pk)
    for spec in specs:
        ensure_child_kind(parent, spec.kind)
    last_child = (
        Node.objects.filter(subtree_q("path", parent.path), depth=parent.depth + 1).order_by("-path").first()
    )
    position = Node._str2int(last_child.path[-Node.steplen :]) if last_child else 0
    nodes = []
    for offset, spec in enumerate(specs, start=1):
        nodes.append(
            Node(
                path=parent.path + _step(position + offset),
                depth=parent.depth + 1,
                numchild=0,
                kind=spec.kind,
                code=spec.code,
                name=spec.name,
                **spec.attributes,
            )
        )
    created = Node.objects.bulk_create(nodes, batch_size=batch_size)
    if not created or created[0].pk is None:  # backends without RETURNING ids
        created = list(Node.objects.filter(code__in=[n.code for n in nodes]).order_by("path"))
    NodeStats.objects.bulk_create(
        [NodeStats(node_id=node.pk, households=int(node.kind == NodeKind.HOUSEHOLD)) for node in created],
        batch_size=batch_size,
    )
    Node.objects.filter(pk=parent.pk).update(numchild=F("numchild") + len(created))
    parent.numchild += len(created)
    households = sum(1 for spec in specs if spec.kind == NodeKind.HOUSEHOLD)
    if households:
        stats_adjust(parent.ancestor_paths, households=households)
    return created


def _raw_figures(within: str = "") -> tuple[dict[str, dict[str, int]], list[tuple[int, str]]]:
    """Each node's own figures from the raw tables (of the subtree at `within`, or everywhere),
    by path; and the building leaders' assignments counted today (assignment id, node path).

    One grouped query per figure: no per-node query."""
    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.accounts.selectors import building_leaders_counted_on
    from gongzhi.core import clock
    from gongzhi.people.models import PartyMember, Person

    def inside(field_name: str) -> Q:
        return subtree_q(field_name, within) if within else Q()

    own: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAT_FIELDS, 0))
    households = Node.objects.filter(inside("path"), kind=NodeKind.HOUSEHOLD).values_list("path", flat=True)
    for path in households.iterator(chunk_size=10000):
        own[path]["households"] += 1
    residents = Person.objects.filter(inside("home__path")).values_list("home__path")
    for path, count in residents.annotate(n=Count("pk")).values_list("home__path", "n"):
        own[path]["residents"] += count
    members = PartyMember.objects.filter(inside("person__home__path")).values_list("person__home__path")
    for path, count in members.annotate(n=Count("pk")).values_list("person__home__path", "n"):
        own[path]["party_members"] += count
    leaders = building_leaders_counted_on(clock.today(), RoleAssignment.objects.filter(inside("node__path")))
    for _assignment_id, path in leaders:
        own[path]["building_leaders"] += 1
    return own, [(assignment_id, path) for assignment_id, path in leaders]


def stats_of_subtree(path: str) -> dict[str, int]:
    """The roll-up figures of the node at `path`, counted from the raw tables of its subtree."""
    own, _leaders = _raw_figures(within=path)
    return {name: sum(figures[name] for figures in own.values()) for name in STAT_FIELDS}


def stats_rebuild() -> int:
    """Recompute every node's roll-up from the raw tables. Returns the number of nodes.

    One grouped query per figure, then the per-node figures are summed up each path prefix
    in Python: O(rows × depth), no per-node query.
    """
    from gongzhi.accounts.models import RoleAssignment

    own, leaders = _raw_figures()
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAT_FIELDS, 0))
    step = Node.steplen
    for path, figures in own.items():
        for end in range(step, len(path) + 1, step):
            bucket = totals[path[:end]]
            for name, value in figures.items():
                bucket[name] += value
    with transaction.atomic():
        # The flags say which building leaders' assignments the counts include: the same ones.
        counted_ids = [assignment_id for assignment_id, _path in leaders]
        RoleAssignment.objects.filter(counted_in_stats=True).update(counted_in_stats=False)
        for start in range(0, len(counted_ids), 500):
            RoleAssignment.objects.filter(pk__in=counted_ids[start : start + 500]).update(
                counted_in_stats=True
            )
        NodeStats.objects.all().delete()
        rows = []
        for node_id, path in Node.objects.values_list("pk", "path").iterator(chunk_size=10000):
            rows.append(NodeStats(node_id=node_id, **totals.get(path, {})))
            if len(rows) >= 5000:
                NodeStats.objects.bulk_create(rows)
                rows = []
        NodeStats.objects.bulk_create(rows)
    return Node.objects.count()


class NewNode(NamedTuple):
    """A node just added in bulk: what callers need without loading a model instance."""

    pk: int
    code: str
    path: str
    depth: int
    kind: str


def nodes_bulk_add_many(groups: Sequence[tuple[Node | NewNode, Sequence[NodeSpec]]]) -> list[NewNode]:
    """`nodes_bulk_add` for many parents at once (imports of whole rosters, benchmarks).

    Same contract (trusted callers, inside a transaction, parents locked, NodeStats rows
    created, households counted on every ancestor) but a constant number of statements for
    all groups instead of several per parent, and plain multi-row inserts (core.bulk) instead
    of model instances. A parent without children needs no query to find its next position.
    Returns the new nodes as `NewNode` tuples, in the order of the specs.
    """
    from gongzhi.core import clock
    from gongzhi.core.bulk import insert_values

    parents: dict[int, Node] = {}
    ids = [parent.pk for parent, _ in groups]
    for start in range(0, len(ids), 500):
        for node in Node.objects.select_for_update().filter(pk__in=ids[start : start + 500]).order_by():
            parents[node.pk] = node
    rows: list[dict[str, Any]] = []
    added: dict[int, int] = defaultdict(int)
    households: dict[str, int] = defaultdict(int)
    for given, specs in groups:
        parent = parents[given.pk]
        position = added[parent.pk]
        if parent.numchild:
            last_path = (
                Node.objects.filter(subtree_q("path", parent.path), depth=parent.depth + 1)
                .order_by("-path")
                .values_list("path", flat=True)
                .first()
            )
            position += Node._str2int(last_path[-Node.steplen :]) if last_path else 0
        for offset, spec in enumerate(specs, start=1):
            ensure_child_kind(parent, spec.kind)
            row = {
                "path": parent.path + _step(position + offset),
                "depth": parent.depth + 1,
                "numchild": 0,
                "kind": spec.kind,
                "code": spec.code,
                "name": spec.name,
            }
            for key, value in spec.attributes.items():
                model_field = Node._meta.get_field(key)
                if model_field.is_relation:
                    row[model_field.attname] = getattr(value, "pk", value)  # type: ignore[union-attr]
                else:
                    row[key] = value
            rows.append(row)
        added[parent.pk] += len(specs)
        count = sum(1 for spec in specs if spec.kind == NodeKind.HOUSEHOLD)
        if count:
            for path in parent.ancestor_paths:
                households[path] += count
    now = clock.now()
    insert_values(Node, rows, now=now)
    new_ids: dict[str, int] = {}
    codes = [row["code"] for row in rows]
    for start in range(0, len(codes), 500):
        batch = Node.objects.filter(code__in=codes[start : start + 500]).order_by()
        new_ids.update(batch.values_list("code", "pk"))
    created = [
        NewNode(new_ids[row["code"]], row["code"], row["path"], row["depth"], row["kind"]) for row in rows
    ]
    insert_values(
        NodeStats,
        ({"node_id": node.pk, "households": int(node.kind == NodeKind.HOUSEHOLD)} for node in created),
        now=now,
    )
    by_increment: dict[int, list[int]] = defaultdict(list)
    for parent_id, increment in added.items():
        by_increment[increment].append(parent_id)
    for increment, parent_ids in by_increment.items():
        for start in range(0, len(parent_ids), 500):
            Node.objects.filter(pk__in=parent_ids[start : start + 500]).update(
                numchild=F("numchild") + increment
            )
    by_delta: dict[int, list[str]] = defaultdict(list)
    for path, delta in households.items():
        by_delta[delta].append(path)
    for delta, paths in by_delta.items():
        for start in range(0, len(paths), 500):
            stats_adjust(paths[start : start + 500], households=delta)
    return created
