"""Maintaining the roll-ups from the ticket events: incremental, idempotent, and rebuildable.

`rollups_update` folds the events after the high-water mark, in id order and in batches, into each
ticket's `TicketFacts`; the difference between a ticket's facts before and after is added to the
roll-up rows (removed from the row it was counted in, added to the row it counts in now) with F()
updates. The mark moves in the same transaction as the counters, so a crash or a second run never
counts an event twice. `rollups_rebuild` empties the tables and folds every event again: it must
give the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F

from gongzhi.core import clock
from gongzhi.insight.definitions import COUNT_FIELDS, DEPARTMENT_COUNT_FIELDS
from gongzhi.insight.models import DailyRollup, DepartmentRollup, RollupMark, TicketFacts
from gongzhi.tickets.models import EventAction, Rating, Ticket, TicketEvent

# Events newer than this are left for the next run: an event's id is taken when it is inserted but
# becomes visible only at commit, so a transaction still open may yet commit a lower id. Ticket
# transactions are short; `rebuild_insight` repairs what a longer one might have let slip.
SETTLE_SECONDS = 10
BATCH = 2000

SATISFIED_RATINGS = frozenset({Rating.SATISFIED, Rating.BASICALLY_SATISFIED})
FACT_EVENTS = (
    EventAction.SUBMITTED,
    EventAction.ACCEPTED,
    EventAction.RESOLVED,
    EventAction.REOPENED,
    EventAction.ESCALATED,
    EventAction.RATED,
    EventAction.MERGED,
    EventAction.WHISTLED,
    EventAction.REPORTED_IN,
)

RollupKey = tuple[dt.date, int, int, str, str, int]  # day, grid, category, channel, kind, level
DepartmentKey = tuple[dt.date, int, int]  # day, grid, department


@dataclass(frozen=True)
class UpdateResult:
    events: int
    last_event_id: int


def fold(
    facts: TicketFacts | None, event: TicketEvent, ticket: Mapping[str, Any] | None
) -> TicketFacts | None:
    """A ticket's facts after one more event (the rules of `definitions.py`). Pure but for `facts`,
    which it changes in place; `ticket` (its dimensions) is needed for the submission only."""
    action, data = event.action, event.data or {}
    if action == EventAction.SUBMITTED:
        if facts is not None or ticket is None:
            return facts  # counted already: a replay changes nothing
        return TicketFacts(
            ticket_id=event.ticket_id,
            day=clock.localtime(event.at).date(),
            grid_id=ticket["grid_id"],
            category_id=ticket["category_id"],
            channel=ticket["channel"],
            kind=ticket["kind"],
            level=event.to_level or 1,
            received=1,
        )
    if facts is None or not facts.received:
        return facts  # never counted (no submission seen) or merged away
    if action == EventAction.ACCEPTED:
        if not facts.responded:
            facts.responded, facts.responded_on_time = 1, int(bool(data.get("on_time")))
    elif action == EventAction.RESOLVED:
        facts.resolved, facts.resolved_on_time = 1, int(bool(data.get("on_time")))
    elif action == EventAction.REOPENED:
        facts.resolved = facts.resolved_on_time = 0
        facts.reopened = 1
    elif action == EventAction.ESCALATED:
        facts.escalated = 1
    elif action == EventAction.RATED:
        facts.rated, facts.satisfied = 1, int(data.get("rating") in SATISFIED_RATINGS)
    elif action == EventAction.MERGED:
        for name in COUNT_FIELDS:
            setattr(facts, name, 0)
    if event.to_level is not None and action in (EventAction.ESCALATED, EventAction.REOPENED):
        facts.level = max(facts.level, event.to_level)
    return facts


def _key(facts: TicketFacts) -> RollupKey:
    return (facts.day, facts.grid_id, facts.category_id, facts.channel, facts.kind, facts.level)


def _counts(facts: TicketFacts | None) -> tuple[int, ...]:
    return (
        tuple(getattr(facts, name) for name in COUNT_FIELDS)
        if facts is not None
        else (0,) * len(COUNT_FIELDS)
    )


def _copy(facts: TicketFacts | None) -> tuple[RollupKey, tuple[int, ...], tuple[int, ...]] | None:
    """What the roll-ups depend on (row key, counts) and the department events counted."""
    return (_key(facts), _counts(facts), tuple(facts.department_events)) if facts is not None else None


def _department_deltas(
    event: TicketEvent, facts: TicketFacts | None, deltas: dict[DepartmentKey, list[int]]
) -> None:
    if facts is None or event.pk in facts.department_events:
        return
    facts.department_events = [*facts.department_events, event.pk]
    data = event.data or {}
    if event.action == EventAction.WHISTLED:
        for department in data.get("departments", []):
            deltas[(facts.day, facts.grid_id, int(department))][0] += 1
    elif event.action == EventAction.REPORTED_IN and data.get("department") is not None:
        row = deltas[(facts.day, facts.grid_id, int(data["department"]))]
        row[1] += 1
        row[2] += int(bool(data.get("late")))


def _apply(
    model: Any,
    key_fields: tuple[str, ...],
    fields: tuple[str, ...],
    deltas: Mapping[Any, list[int]],
) -> None:
    """Add each key's deltas to its row, creating missing rows first (F() updates, no read)."""
    changed = {key: values for key, values in deltas.items() if any(values)}
    if not changed:
        return
    model.objects.bulk_create(
        [model(**dict(zip(key_fields, key, strict=True))) for key in changed], ignore_conflicts=True
    )
    for key, values in changed.items():
        updates = {name: F(name) + value for name, value in zip(fields, values, strict=True) if value}
        model.objects.filter(**dict(zip(key_fields, key, strict=True))).update(**updates)


def _lock_mark() -> RollupMark:
    mark = RollupMark.objects.select_for_update().filter(pk=1).first()
    if mark is None:
        RollupMark.objects.bulk_create([RollupMark(pk=1)], ignore_conflicts=True)
        mark = RollupMark.objects.select_for_update().get(pk=1)
    return mark


def _settled(events: Iterable[TicketEvent], cutoff: dt.datetime) -> list[TicketEvent]:
    """The events up to (not past) the first one too young to be sure no lower id is still coming."""
    settled = []
    for event in events:
        if event.at > cutoff:
            break
        settled.append(event)
    return settled


@transaction.atomic
def _update_batch(*, cutoff: dt.datetime, batch: int) -> tuple[int, int]:
    mark = _lock_mark()
    fetched = list(
        TicketEvent.objects.filter(pk__gt=mark.last_event_id)
        .order_by("pk")
        .only("pk", "ticket_id", "at", "action", "to_level", "data")[:batch]
    )
    events = _settled(fetched, cutoff)
    if not events:
        return 0, mark.last_event_id
    relevant = [event for event in events if event.action in FACT_EVENTS]
    ticket_ids = {event.ticket_id for event in relevant}
    submitted = {event.ticket_id for event in relevant if event.action == EventAction.SUBMITTED}
    tickets = {
        row["pk"]: row
        for row in Ticket.objects.filter(pk__in=submitted).values(
            "pk", "grid_id", "category_id", "channel", "kind"
        )
    }
    facts: dict[int, TicketFacts | None] = {
        row.ticket_id: row for row in TicketFacts.objects.filter(ticket_id__in=ticket_ids)
    }
    before = {ticket_id: _copy(row) for ticket_id, row in facts.items()}
    departments: dict[DepartmentKey, list[int]] = defaultdict(lambda: [0] * len(DEPARTMENT_COUNT_FIELDS))
    for event in relevant:
        current = fold(facts.get(event.ticket_id), event, tickets.get(event.ticket_id))
        facts[event.ticket_id] = current
        _department_deltas(event, current, departments)

    deltas: dict[RollupKey, list[int]] = defaultdict(lambda: [0] * len(COUNT_FIELDS))
    changed: list[TicketFacts] = []
    for ticket_id, row in facts.items():
        old, new = before.get(ticket_id), _copy(row)
        if row is None or new is None or old == new:
            continue
        changed.append(row)
        if old is not None and old[:2] == new[:2]:
            continue  # only department events were added
        if old is not None:
            deltas[old[0]] = [a - b for a, b in zip(deltas[old[0]], old[1], strict=True)]
        deltas[new[0]] = [a + b for a, b in zip(deltas[new[0]], new[1], strict=True)]
    TicketFacts.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["ticket"],
        update_fields=[
            "day",
            "grid",
            "category",
            "channel",
            "kind",
            "level",
            "department_events",
            *COUNT_FIELDS,
        ],
    )
    _apply(DailyRollup, ("day", "grid_id", "category_id", "channel", "kind", "level"), COUNT_FIELDS, deltas)
    _apply(DepartmentRollup, ("day", "grid_id", "department_id"), DEPARTMENT_COUNT_FIELDS, departments)
    mark.last_event_id = events[-1].pk
    mark.updated_at = clock.now()
    mark.save(update_fields=["last_event_id", "updated_at"])
    return len(events), mark.last_event_id


def rollups_update(
    *, now: dt.datetime | None = None, settle_seconds: int = SETTLE_SECONDS, batch: int = BATCH
) -> UpdateResult:
    """Fold every settled event after the mark into the roll-ups, a batch per transaction."""
    cutoff = (now or clock.now()) - dt.timedelta(seconds=settle_seconds)
    total, last = 0, 0
    while True:
        count, last = _update_batch(cutoff=cutoff, batch=batch)
        total += count
        if count < batch:
            return UpdateResult(events=total, last_event_id=last)


@transaction.atomic
def rollups_rebuild(*, now: dt.datetime | None = None, batch: int = BATCH) -> UpdateResult:
    """Recompute every roll-up from the events (under the mark's lock, so the worker waits)."""
    mark = _lock_mark()
    TicketFacts.objects.all().delete()
    DailyRollup.objects.all().delete()
    DepartmentRollup.objects.all().delete()
    mark.last_event_id = 0
    mark.save(update_fields=["last_event_id"])
    return rollups_update(now=now, settle_seconds=0, batch=batch)
