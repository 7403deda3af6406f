"""Maintaining the roll-ups from the ticket events: incremental, idempotent, and rebuildable.

`rollups_update` folds the events after the high-water mark, in id order and in batches, into each
ticket's facts (`facts.fold`); for every ticket a batch touched it takes the ticket's contributions
before away from the roll-ups and adds its contributions after (`facts.add_contributions`),
set-wise (`upsert.add_deltas`). The mark moves in the same transaction as the counters, so a crash
or a second run never counts an event twice.

`rollups_rebuild` recomputes everything from the events without holding one transaction for all
of it: it refolds the facts ticket range by ticket range (each range its own short transaction,
the worker standing aside meanwhile), then recounts every roll-up from the facts in one set-wise
pass (`INSERT … SELECT … GROUP BY`). `rollups_regroup` does the second half only, after the tree
moved a grid under another community. `rollups_maintain` is what the worker runs every minute.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Case, F, JSONField, Max, QuerySet, When
from django.utils import timezone

from gongzhi.core import clock
from gongzhi.insight.definitions import COUNT_FIELDS, DASHBOARD_KINDS
from gongzhi.insight.facts import (
    DATA_ACTIONS,
    FACT_EVENTS,
    FACTS_FIELDS,
    TABLES,
    Deltas,
    Event,
    Facts,
    TicketDimensions,
    add_department_contributions,
    add_difference,
    add_term_contributions,
    changed_rows,
    clone,
    fold,
    new_deltas,
)
from gongzhi.insight.hot_topics import terms_from_day, topic_terms
from gongzhi.insight.models import (
    DailyRollup,
    DepartmentDailyRollup,
    DepartmentRollup,
    DepartmentWaitRollup,
    GridPlacement,
    NodeDailyRollup,
    NodeDimensionRollup,
    NodeOpenRollup,
    RollupMark,
    TermRollup,
    TicketFacts,
)
from gongzhi.insight.upsert import add_deltas, put_rows
from gongzhi.territory.models import Node
from gongzhi.tickets.models import EventAction, Summons, Ticket, TicketEvent

logger = logging.getLogger(__name__)

# Events newer than this are left for the next run: an event's id is taken when it is inserted but
# becomes visible only at commit, so a transaction still open may yet commit a lower id. Ticket
# transactions are short; `rebuild_insight` repairs what a longer one might have let slip.
SETTLE_SECONDS = 10
BATCH = 5000  # events per transaction: more keys merge (a day's, a district's rows), fewer statements
REBUILD_CHUNK = 20_000  # tickets refolded per transaction of a rebuild
# A rebuild that has not reported progress for this long is taken for dead and started again.
REBUILD_STALE = dt.timedelta(minutes=15)
# The shape of the roll-ups; a deployment whose rows were built by an older shape is rebuilt.
ROLLUP_VERSION = 2

TABLE_MODELS: dict[str, type[models.Model]] = {
    "daily": DailyRollup,
    "node_daily": NodeDailyRollup,
    "node_dimension": NodeDimensionRollup,
    "node_open": NodeOpenRollup,
    "term": TermRollup,
    "department": DepartmentRollup,
    "department_daily": DepartmentDailyRollup,
    "department_wait": DepartmentWaitRollup,
}
ROLLUP_MODELS: tuple[type[models.Model], ...] = tuple(TABLE_MODELS.values())
EVENT_COLUMNS = ("pk", "ticket_id", "at", "action", "to_state", "to_level", "payload")


@dataclass(frozen=True)
class UpdateResult:
    events: int
    last_event_id: int


# --- Reading what the fold needs ------------------------------------------------------------------


def _events(events: QuerySet[TicketEvent], limit: int | None = None) -> list[Event]:
    """The (first `limit`) events as tuples, their data fetched only where the fold reads it."""
    data = Case(When(action__in=DATA_ACTIONS, then=F("data")), default=None, output_field=JSONField())
    rows = events.annotate(payload=data).values_list(*EVENT_COLUMNS)
    return [Event._make(row) for row in (rows[:limit] if limit is not None else rows)]


def _facts_of(ticket_ids: Iterable[int]) -> dict[int, Facts]:
    fields = list(FACTS_FIELDS)
    return {
        row["ticket_id"]: Facts(**row)
        for row in TicketFacts.objects.filter(ticket_id__in=list(ticket_ids)).values(*fields)
    }


def _dimensions(
    events: Sequence[Event], terms_from: dt.date, skip: Iterable[int] = ()
) -> dict[int, TicketDimensions]:
    """The dimensions of the tickets submitted in `events` (but those in `skip`), with the words of
    those submitted from `terms_from` on (hot topics)."""
    since = timezone.make_aware(dt.datetime.combine(terms_from, dt.time.min))
    known = set(skip)
    submitted = {
        e.ticket_id: e.at for e in events if e.action == EventAction.SUBMITTED and e.ticket_id not in known
    }
    if not submitted:
        return {}
    rows = Ticket.objects.filter(pk__in=list(submitted)).values_list(
        "pk", "grid_id", "category_id", "channel", "kind"
    )
    recent = [pk for pk, at in submitted.items() if at >= since]
    descriptions = (
        dict(Ticket.objects.filter(pk__in=recent).values_list("pk", "description")) if recent else {}
    )
    return {
        pk: TicketDimensions(grid, category, channel, kind, topic_terms(descriptions.get(pk, "")))
        for pk, grid, category, channel, kind in rows
    }


def _whistle_ids(events: Sequence[Event]) -> dict[int, int]:
    """Report-in event id → the whistle its summons answers (older events name only the summons)."""
    found: dict[int, int] = {}
    missing: dict[int, int] = {}
    for event in events:
        data = event.data or {}
        if event.action != EventAction.REPORTED_IN:
            continue
        if data.get("whistle") is not None:
            found[event.pk] = int(data["whistle"])
        elif data.get("summons") is not None:
            missing[event.pk] = int(data["summons"])
    if missing:
        whistles = dict(Summons.objects.filter(pk__in=set(missing.values())).values_list("pk", "whistle_id"))
        found.update({pk: whistles[s] for pk, s in missing.items() if s in whistles})
    return found


def _live_placements(grid_ids: Iterable[int]) -> dict[int, list[int]]:
    """The dashboard nodes above (and at) each grid in the tree as it is now."""
    grids = dict(Node.objects.filter(pk__in=list(grid_ids)).values_list("pk", "path"))
    prefixes = {
        path[: depth * Node.steplen]
        for path in grids.values()
        for depth in range(1, len(path) // Node.steplen + 1)
    }
    nodes = dict(Node.objects.filter(path__in=prefixes, kind__in=DASHBOARD_KINDS).values_list("path", "pk"))
    return {
        grid: sorted(
            nodes[path[: depth * Node.steplen]]
            for depth in range(1, len(path) // Node.steplen + 1)
            if path[: depth * Node.steplen] in nodes
        )
        for grid, path in grids.items()
    }


def _placements(grid_ids: set[int]) -> dict[int, list[int]]:
    """Where each grid's tickets are counted; a grid met for the first time is placed now."""
    placed: dict[int, list[int]] = {}
    for grid, node in GridPlacement.objects.filter(grid_id__in=grid_ids).values_list("grid_id", "node_id"):
        placed.setdefault(grid, []).append(node)
    new = _live_placements(grid_ids - set(placed))
    GridPlacement.objects.bulk_create(
        [GridPlacement(grid_id=grid, node_id=node) for grid, nodes in new.items() for node in nodes],
        ignore_conflicts=True,
    )
    return {**placed, **new}


def _apply(deltas: Deltas) -> None:
    for table, rows in changed_rows(deltas):
        keys, values = TABLES[table]
        add_deltas(TABLE_MODELS[table], keys, values, rows)


def _save_facts(rows: Sequence[Facts]) -> None:
    put_rows(
        TicketFacts,
        ("ticket_id",),
        FACTS_FIELDS,
        [[getattr(row, name) for name in FACTS_FIELDS] for row in rows],
    )


# --- The incremental fold -------------------------------------------------------------------------


def _lock_mark() -> RollupMark:
    mark = RollupMark.objects.select_for_update().filter(pk=1).first()
    if mark is None:
        # A new deployment's roll-ups start empty, of the current shape.
        RollupMark.objects.bulk_create([RollupMark(pk=1, version=ROLLUP_VERSION)], ignore_conflicts=True)
        mark = RollupMark.objects.select_for_update().get(pk=1)
    return mark


def _settled(events: Iterable[Event], cutoff: dt.datetime) -> list[Event]:
    """The events up to (not past) the first one too young to be sure no lower id is still coming."""
    settled = []
    for event in events:
        if event.at > cutoff:
            break
        settled.append(event)
    return settled


def _prune_terms(mark: RollupMark, terms_from: dt.date) -> None:
    """Drop the hot-topic words of the days before `terms_from` (once per week)."""
    if mark.terms_from is not None and mark.terms_from >= terms_from:
        return
    TermRollup.objects.filter(day__lt=terms_from).delete()
    mark.terms_from = terms_from
    mark.save(update_fields=["terms_from"])


@transaction.atomic
def _update_batch(*, cutoff: dt.datetime, batch: int, terms_from: dt.date) -> tuple[int, int]:
    _bulk_transaction()
    mark = _lock_mark()
    if mark.rebuild_id:
        return 0, mark.last_event_id  # a rebuild is refolding the facts: it will catch up
    _prune_terms(mark, terms_from)
    fetched = _events(TicketEvent.objects.filter(pk__gt=mark.last_event_id).order_by("pk"), limit=batch)
    events = _settled(fetched, cutoff)
    if not events:
        return 0, mark.last_event_id
    relevant = [event for event in events if event.action in FACT_EVENTS]
    facts: dict[int, Facts | None] = dict(_facts_of({event.ticket_id for event in relevant}))
    tickets = _dimensions(relevant, terms_from, skip=facts)
    places = _placements(
        {row.grid_id for row in facts.values() if row is not None} | {t.grid_id for t in tickets.values()}
    )
    whistles = _whistle_ids(relevant)
    before = {ticket_id: clone(row) for ticket_id, row in facts.items() if row is not None}
    zone = timezone.get_current_timezone()
    for event in relevant:
        facts[event.ticket_id] = fold(
            facts.get(event.ticket_id), event, tickets.get(event.ticket_id), whistles.get(event.pk), zone
        )
    deltas = new_deltas()
    changed = []
    for ticket_id, row in facts.items():
        old = before.get(ticket_id)
        if row is None or (old is not None and old == row):
            continue
        add_difference(deltas, old, row, places[row.grid_id], terms_from=terms_from)
        changed.append(row)
    _save_facts(changed)
    _apply(deltas)
    mark.last_event_id = events[-1].pk
    mark.updated_at = clock.now()
    mark.save(update_fields=["last_event_id", "updated_at"])
    return len(events), mark.last_event_id


def rollups_update(
    *, now: dt.datetime | None = None, settle_seconds: int = SETTLE_SECONDS, batch: int = BATCH
) -> UpdateResult:
    """Fold every settled event after the mark into the roll-ups, a batch per transaction."""
    now = now or clock.now()
    cutoff = now - dt.timedelta(seconds=settle_seconds)
    terms_from = terms_from_day(clock.localtime(now).date())
    total, last = 0, 0
    while True:
        count, last = _update_batch(cutoff=cutoff, batch=batch, terms_from=terms_from)
        total += count
        if count < batch:
            return UpdateResult(events=total, last_event_id=last)


# --- Rebuilding -----------------------------------------------------------------------------------


def _refold_chunk(*, rebuild_id: str, first: int, last: int, high: int, terms_from: dt.date) -> int:
    """Recompute the facts of the tickets first..last from their events up to `high`. Returns the
    number of events folded; raises if another rebuild took over."""
    with transaction.atomic():
        _bulk_transaction()
        mark = _lock_mark()
        if mark.rebuild_id != rebuild_id:
            raise RuntimeError("another roll-up rebuild took over")
        mark.rebuild_heartbeat = clock.now()
        mark.save(update_fields=["rebuild_heartbeat"])
        events = _events(
            TicketEvent.objects.filter(
                ticket_id__gte=first, ticket_id__lte=last, pk__lte=high, action__in=FACT_EVENTS
            ).order_by("ticket_id", "pk")
        )
        tickets = _dimensions(events, terms_from)
        whistles = _whistle_ids(events)
        facts: dict[int, Facts | None] = {}
        zone = timezone.get_current_timezone()
        for event in events:
            facts[event.ticket_id] = fold(
                facts.get(event.ticket_id), event, tickets.get(event.ticket_id), whistles.get(event.pk), zone
            )
        TicketFacts.objects.filter(ticket_id__gte=first, ticket_id__lte=last).delete()
        _insert_facts([row for row in facts.values() if row is not None])
        return len(events)


def _insert_facts(rows: Sequence[Facts]) -> None:
    """New facts rows (the range was emptied): COPY on PostgreSQL, plain inserts elsewhere."""
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        by_attname = {field.attname: str(field.column) for field in TicketFacts._meta.concrete_fields}
        json_fields = {"terms", "department_events", "summonses"}
        columns = ", ".join(quote(by_attname[name]) for name in FACTS_FIELDS)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {quote(TicketFacts._meta.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(
                    [
                        _json_text(getattr(row, name)) if name in json_fields else getattr(row, name)
                        for name in FACTS_FIELDS
                    ]
                )
        return
    from gongzhi.core.bulk import insert_rows

    insert_rows(
        TicketFacts,
        FACTS_FIELDS,
        ([getattr(row, name) for name in FACTS_FIELDS] for row in rows),
        now=clock.now(),
    )


def _json_text(value: Any) -> str:
    return "[]" if value == [] else "{}" if value == {} else json.dumps(value, ensure_ascii=False)


def _bulk_transaction() -> None:
    """PostgreSQL, inside a roll-up transaction: no wait for the disk at commit (a crash can lose
    the last fraction of a second of roll-up work, counters and mark together, which the next run
    folds again) and room to sort and hash in memory."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")


def _ticket_ranges(size: int) -> Iterable[tuple[int, int]]:
    """Consecutive ranges of ticket ids holding up to `size` tickets each (one indexed read per range)."""
    last = 0
    while True:
        ids = list(Ticket.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids[0], ids[-1]
        last = ids[-1]


def _sum_sql(prefix: str, fields: Sequence[str]) -> str:
    return ", ".join(f"SUM({prefix}{connection.ops.quote_name(name)})" for name in fields)


def _analyze(*models_: type[models.Model]) -> None:
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _recount_rollups(*, terms_from: dt.date) -> None:
    """Every roll-up recounted from the facts, set-wise (hold the mark's lock). The grids are placed
    again from the tree as it is now."""
    quote = connection.ops.quote_name
    GridPlacement.objects.all().delete()
    _placements(set(Node.objects.filter(kind="grid").values_list("pk", flat=True)))
    _analyze(TicketFacts, GridPlacement)  # fresh statistics, or the planner picks nested loops
    for model in ROLLUP_MODELS:
        model._default_manager.all().delete()
    facts, placement = quote(TicketFacts._meta.db_table), quote(GridPlacement._meta.db_table)
    counts = ", ".join(quote(name) for name in COUNT_FIELDS)
    sums = ", ".join(f"SUM(f.{quote(name)})" for name in COUNT_FIELDS)
    nonzero = " + ".join(f"SUM(f.{quote(name)})" for name in COUNT_FIELDS) + " > 0"
    joined = f"FROM {facts} f JOIN {placement} p ON p.grid_id = f.grid_id"
    dimensions = f"(node_id, day, dimension, value, {quote('count')})"
    text = "VARCHAR(32)"
    statements: list[tuple[str, list[Any]]] = [
        (
            f"INSERT INTO {quote(DailyRollup._meta.db_table)} "
            f"(day, grid_id, category_id, channel, kind, level, {counts}) "
            f"SELECT f.day, f.grid_id, f.category_id, f.channel, f.kind, f.level, {sums} FROM {facts} f "
            f"GROUP BY f.day, f.grid_id, f.category_id, f.channel, f.kind, f.level HAVING {nonzero}",
            [],
        ),
        (
            f"INSERT INTO {quote(NodeDailyRollup._meta.db_table)} (node_id, day, {counts}) "
            f"SELECT p.node_id, f.day, {sums} {joined} GROUP BY p.node_id, f.day HAVING {nonzero}",
            [],
        ),
        (
            f"INSERT INTO {quote(NodeOpenRollup._meta.db_table)} "
            "(node_id, awaiting_response, awaiting_resolution) "
            f"SELECT p.node_id, SUM(f.awaiting_response), SUM(f.awaiting_resolution) {joined} "
            "WHERE f.awaiting_response + f.awaiting_resolution > 0 GROUP BY p.node_id",
            [],
        ),
    ]
    for dimension, value, condition in (
        ("kind", "f.kind", "f.received = 1"),
        ("category", f"CAST(f.category_id AS {text})", "f.received = 1"),
        ("channel", "f.channel", "f.received = 1"),
        ("level", f"CAST(f.level AS {text})", "f.received = 1"),
        ("respond", f"CAST(f.respond_bucket AS {text})", "f.responded = 1 AND f.respond_bucket IS NOT NULL"),
        ("resolve", f"CAST(f.resolve_bucket AS {text})", "f.resolved = 1 AND f.resolve_bucket IS NOT NULL"),
    ):
        statements.append(
            (
                f"INSERT INTO {quote(NodeDimensionRollup._meta.db_table)} {dimensions} "
                f"SELECT p.node_id, f.day, %s, {value}, COUNT(*) {joined} WHERE {condition} AND p.node_id <> f.grid_id "
                f"GROUP BY p.node_id, f.day, {value}",
                [dimension],
            )
        )
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    _recount_summonses_and_terms(terms_from=terms_from)
    _analyze(*ROLLUP_MODELS)  # the tables were rewritten: the dashboards' plans need new statistics


def _recount_summonses_and_terms(*, terms_from: dt.date, chunk: int = 20_000) -> None:
    """The roll-ups counted from the facts' JSON (departments summoned, words): in Python, over the
    few tickets that have them (summoned ones; the last two weeks' ones)."""
    places: dict[int, list[int]] = {}
    fields = list(FACTS_FIELDS)
    for condition in ({"summoned__gt": 0}, {"day__gte": terms_from, "received": 1}):
        last = 0
        while True:
            rows = [
                Facts(**row)
                for row in TicketFacts.objects.filter(ticket_id__gt=last, **condition)
                .order_by("ticket_id")
                .values(*fields)[:chunk]
            ]
            if not rows:
                break
            last = rows[-1].ticket_id
            places = {**places, **_placements({row.grid_id for row in rows} - set(places))}
            deltas = new_deltas()
            for row in rows:
                if "summoned__gt" in condition:
                    add_department_contributions(deltas, row, places[row.grid_id])
                else:
                    add_term_contributions(deltas, row, places[row.grid_id], terms_from=terms_from)
            _apply(deltas)


def _begin_rebuild() -> tuple[str, int]:
    with transaction.atomic():
        mark = _lock_mark()
        rebuild_id = uuid.uuid4().hex
        high = TicketEvent.objects.aggregate(high=Max("pk"))["high"] or 0
        mark.rebuild_id, mark.rebuild_heartbeat = rebuild_id, clock.now()
        mark.save(update_fields=["rebuild_id", "rebuild_heartbeat"])
    return rebuild_id, high


def rollups_rebuild(*, now: dt.datetime | None = None, chunk: int = REBUILD_CHUNK) -> UpdateResult:
    """Recompute the facts and every roll-up from the events: the facts a range of tickets at a time
    (short transactions; the worker waits for the rebuild to finish), then the roll-ups from the
    facts in one set-wise pass. Events that arrive meanwhile are folded afterwards by the worker."""
    terms_from = terms_from_day(clock.localtime(now or clock.now()).date())
    rebuild_id, high = _begin_rebuild()
    folded = 0
    try:
        for first, last in _ticket_ranges(chunk):
            folded += _refold_chunk(
                rebuild_id=rebuild_id, first=first, last=last, high=high, terms_from=terms_from
            )
        with transaction.atomic():
            _bulk_transaction()
            mark = _lock_mark()
            if mark.rebuild_id != rebuild_id:
                raise RuntimeError("another roll-up rebuild took over")
            _recount_rollups(terms_from=terms_from)
            mark.last_event_id, mark.version, mark.terms_from = high, ROLLUP_VERSION, terms_from
            mark.rebuild_id, mark.rebuild_heartbeat, mark.updated_at = "", None, clock.now()
            mark.save()
    except BaseException:
        # Leave the mark as it was for the next rebuild (a newer one keeps its own id).
        RollupMark.objects.filter(pk=1, rebuild_id=rebuild_id).update(rebuild_heartbeat=None)
        raise
    return UpdateResult(events=folded, last_event_id=high)


def _placements_changed() -> bool:
    stored: dict[int, list[int]] = {}
    for grid, node in GridPlacement.objects.values_list("grid_id", "node_id"):
        stored.setdefault(grid, []).append(node)
    live = _live_placements(stored)
    return any(sorted(nodes) != live.get(grid) for grid, nodes in stored.items())


def rollups_regroup() -> bool:
    """When the tree moved a grid (to another community, say), count its history where it is now:
    every roll-up recounted from the facts. Returns whether anything had moved."""
    with transaction.atomic():
        _bulk_transaction()
        mark = _lock_mark()
        if mark.rebuild_id or not _placements_changed():
            return False
        _recount_rollups(terms_from=mark.terms_from or terms_from_day(clock.today()))
        return True


def rollups_maintain() -> UpdateResult:
    """The worker's minute: rebuild when the roll-ups are of an older shape (or a rebuild died),
    recount when the tree moved a grid, then fold the new events."""
    mark = RollupMark.objects.filter(pk=1).first()
    stale = clock.now() - REBUILD_STALE
    if mark is not None and mark.rebuild_id:
        if mark.rebuild_heartbeat is not None and mark.rebuild_heartbeat > stale:
            return UpdateResult(events=0, last_event_id=mark.last_event_id)  # one is running
        logger.warning("insight: the roll-up rebuild %s stopped; starting it again", mark.rebuild_id)
        rollups_rebuild()
    elif mark is not None and mark.version != ROLLUP_VERSION:
        logger.info("insight: rebuilding the roll-ups (version %s → %s)", mark.version, ROLLUP_VERSION)
        rollups_rebuild()
    elif rollups_regroup():
        logger.info("insight: a grid moved; the roll-ups were recounted from the facts")
    return rollups_update()
