"""A ticket's counted facts and what they contribute to each roll-up: pure functions, no queries.

`fold` applies one event to a ticket's `Facts` (the rules of `definitions.py`); `contributions` says
which roll-up rows the facts are counted in and with what. The worker adds, for every ticket an
event batch changed, its contributions after minus its contributions before; a rebuild sums the
contributions of every ticket. Both therefore give the same rows by construction, and a test
recounts them from the raw events by brute force.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from gongzhi.core import clock
from gongzhi.insight.definitions import COUNT_FIELDS, CountFields, duration_bucket
from gongzhi.tickets.models import EventAction, Rating
from gongzhi.tickets.workflow import AWAITING_RESOLUTION, AWAITING_RESPONSE

SATISFIED_RATINGS = frozenset({Rating.SATISFIED, Rating.BASICALLY_SATISFIED})

# Events that change a ticket's facts; the others (comments, reminders, a department's work
# record, confirmations) leave them alone. Every event with a `to_state` changes the open state.
FACT_EVENTS = frozenset(
    {
        EventAction.SUBMITTED,
        EventAction.ACCEPTED,
        EventAction.STARTED,
        EventAction.RESOLVED,
        EventAction.CLOSED,
        EventAction.REJECTED,
        EventAction.REOPENED,
        EventAction.ESCALATED,
        EventAction.RATED,
        EventAction.MERGED,
        EventAction.WHISTLED,
        EventAction.REPORTED_IN,
    }
)


class Event(NamedTuple):
    """The parts of a TicketEvent the fold reads (a tuple: a rebuild makes millions of them).
    `data` is None for the actions whose data the fold does not read (DATA_ACTIONS)."""

    pk: int
    ticket_id: int
    at: dt.datetime
    action: str
    to_state: str | None
    to_level: int | None
    data: Mapping[str, Any] | None


# The actions whose event data the fold reads (the others' data is not even fetched).
DATA_ACTIONS = frozenset(
    {
        EventAction.ACCEPTED,
        EventAction.RESOLVED,
        EventAction.RATED,
        EventAction.WHISTLED,
        EventAction.REPORTED_IN,
    }
)


@dataclass(frozen=True, slots=True)
class TicketDimensions:
    """The parts of the ticket row a submission is counted by (and its words, when recent)."""

    grid_id: int
    category_id: int
    channel: str
    kind: str
    terms: tuple[str, ...] = ()


@dataclass(kw_only=True)
class Facts(CountFields):
    """The mutable image of one `TicketFacts` row (the same field names)."""

    ticket_id: int
    day: dt.date
    grid_id: int
    category_id: int
    channel: str
    kind: str
    level: int
    submitted_at: dt.datetime | None = None
    awaiting_response: int = 0
    awaiting_resolution: int = 0
    respond_bucket: int | None = None
    resolve_bucket: int | None = None
    terms: list[str] = field(default_factory=list)
    department_events: list[int] = field(default_factory=list)
    # {"departments": {"12": [summoned, reported_in, reported_late, [wait buckets]]},
    #  "whistles": {"7": "2026-11-24T02:00:00+00:00"}}
    summonses: dict[str, Any] = field(default_factory=dict)
    summoned: int = 0

    def departments(self) -> dict[str, list[Any]]:
        return self.summonses.get("departments", {})  # type: ignore[no-any-return]


FACTS_FIELDS: tuple[str, ...] = tuple(Facts.__dataclass_fields__)  # the counts first, as TicketFacts


def _open_state(facts: Facts, state: str) -> None:
    facts.awaiting_response = int(state in AWAITING_RESPONSE)
    facts.awaiting_resolution = int(state in AWAITING_RESOLUTION)


def _seconds_since_submission(facts: Facts, at: dt.datetime) -> float:
    return (at - facts.submitted_at).total_seconds() if facts.submitted_at is not None else 0.0


def _submitted(event: Event, ticket: TicketDimensions, zone: dt.tzinfo | None) -> Facts:
    facts = Facts(
        ticket_id=event.ticket_id,
        day=(event.at.astimezone(zone) if zone is not None else clock.localtime(event.at)).date(),
        grid_id=ticket.grid_id,
        category_id=ticket.category_id,
        channel=ticket.channel,
        kind=ticket.kind,
        level=event.to_level or 1,
        submitted_at=event.at,
        received=1,
        terms=list(ticket.terms),
    )
    _open_state(facts, event.to_state or "submitted")
    return facts


def _department(facts: Facts, department: Any) -> list[Any]:
    departments = facts.summonses.setdefault("departments", {})
    row: list[Any] = departments.setdefault(str(int(department)), [0, 0, 0, []])
    facts.summoned = len(departments)
    return row


def _summons_event(facts: Facts, event: Event, whistle_id: int | None) -> None:
    """Whistles and report-ins, each counted once (a replay of the events adds nothing)."""
    if event.pk in facts.department_events:
        return
    facts.department_events = [*facts.department_events, event.pk]
    data = event.data or {}
    if event.action == EventAction.WHISTLED:
        if data.get("whistle") is not None:
            facts.summonses.setdefault("whistles", {})[str(data["whistle"])] = event.at.isoformat()
        for department in data.get("departments", []):
            _department(facts, department)[0] += 1
    elif data.get("department") is not None:
        row = _department(facts, data["department"])
        row[1] += 1
        row[2] += int(bool(data.get("late")))
        whistled = facts.summonses.get("whistles", {}).get(str(whistle_id))
        if whistled is not None:
            seconds = (event.at - dt.datetime.fromisoformat(whistled)).total_seconds()
            row[3] = sorted([*row[3], duration_bucket(seconds)])


def fold(
    facts: Facts | None,
    event: Event,
    ticket: TicketDimensions | None,
    whistle_id: int | None = None,
    zone: dt.tzinfo | None = None,
) -> Facts | None:
    """A ticket's facts after one more event. Changes `facts` in place. `ticket` is needed for the
    submission only; `whistle_id` for a report-in (the whistle its summons belongs to); `zone` is
    the local time zone (read once by the caller; the current one by default)."""
    action, data = event.action, event.data or {}
    if action == EventAction.SUBMITTED:
        if facts is not None or ticket is None:
            return facts  # counted already: a replay changes nothing
        return _submitted(event, ticket, zone)
    if facts is None:
        return None  # never counted: no submission seen
    if action in (EventAction.WHISTLED, EventAction.REPORTED_IN):
        # Summonses count even on a ticket merged away later (the department did come).
        _summons_event(facts, event, whistle_id)
    if not facts.received:
        return facts  # merged away
    if event.to_state:
        _open_state(facts, event.to_state)
    if action == EventAction.ACCEPTED:
        if not facts.responded:
            facts.responded, facts.responded_on_time = 1, int(bool(data.get("on_time")))
            facts.respond_bucket = duration_bucket(_seconds_since_submission(facts, event.at))
    elif action == EventAction.RESOLVED:
        facts.resolved, facts.resolved_on_time = 1, int(bool(data.get("on_time")))
        facts.resolve_bucket = duration_bucket(_seconds_since_submission(facts, event.at))
    elif action == EventAction.REOPENED:
        facts.resolved = facts.resolved_on_time = 0
        facts.resolve_bucket = None
        facts.reopened = 1
    elif action == EventAction.ESCALATED:
        facts.escalated = 1
    elif action == EventAction.RATED:
        facts.rated, facts.satisfied = 1, int(data.get("rating") in SATISFIED_RATINGS)
    elif action == EventAction.MERGED:
        for name in COUNT_FIELDS:
            setattr(facts, name, 0)
        facts.awaiting_response = facts.awaiting_resolution = 0
    if event.to_level is not None and action in (EventAction.ESCALATED, EventAction.REOPENED):
        facts.level = max(facts.level, event.to_level)
    return facts


# --- Contributions --------------------------------------------------------------------------------

# Roll-up tables by name, each with its key and value columns (attribute names).
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "daily": (("day", "grid_id", "category_id", "channel", "kind", "level"), COUNT_FIELDS),
    "node_daily": (("node_id", "day"), COUNT_FIELDS),
    "node_dimension": (("node_id", "day", "dimension", "value"), ("count",)),
    "node_open": (("node_id",), ("awaiting_response", "awaiting_resolution")),
    "term": (("node_id", "day", "term"), ("count",)),
    "department": (("node_id", "day", "department_id"), ("summoned", "reported_in", "reported_late")),
    "department_daily": (
        ("department_id", "day"),
        (*COUNT_FIELDS, "summoned", "reported_in", "reported_late"),
    ),
    "department_wait": (("department_id", "day", "bucket"), ("count",)),
}

Deltas = dict[str, dict[tuple[Any, ...], list[int]]]


def new_deltas() -> Deltas:
    return {table: {} for table in TABLES}


def _add(
    rows: dict[tuple[Any, ...], list[int]], key: tuple[Any, ...], values: Sequence[int], sign: int
) -> None:
    row = rows.get(key)
    if row is None:
        rows[key] = [sign * value for value in values]
    else:
        for index, value in enumerate(values):
            row[index] += sign * value


def add_contributions(
    deltas: Deltas,
    facts: Facts,
    nodes: Sequence[int],
    *,
    terms_from: dt.date | None,
    sign: int = 1,
    with_terms: bool = True,
    with_departments: bool = True,
) -> None:
    """Add (sign 1) or take away (sign -1) what `facts` contribute to the roll-ups. `nodes` are the
    dashboard nodes the ticket's grid is placed under; hot-topic words count from `terms_from` on."""
    counts = facts.counts()
    day = facts.day
    if any(counts):
        _add(
            deltas["daily"],
            (day, facts.grid_id, facts.category_id, facts.channel, facts.kind, facts.level),
            counts,
            sign,
        )
    opened = (facts.awaiting_response, facts.awaiting_resolution)
    dimensions: list[tuple[str, str]] = []
    if facts.received:
        dimensions = [
            ("kind", facts.kind),
            ("category", str(facts.category_id)),
            ("channel", facts.channel),
            ("level", str(facts.level)),
        ]
    if facts.responded and facts.respond_bucket is not None:
        dimensions.append(("respond", str(facts.respond_bucket)))
    if facts.resolved and facts.resolve_bucket is not None:
        dimensions.append(("resolve", str(facts.resolve_bucket)))
    for node in nodes:
        if any(counts):
            _add(deltas["node_daily"], (node, day), counts, sign)
        if any(opened):
            _add(deltas["node_open"], (node,), opened, sign)
        if node == facts.grid_id:
            continue  # a grid's breakdowns are read from its own few facts (definitions.DIMENSIONS)
        for dimension, value in dimensions:
            _add(deltas["node_dimension"], (node, day, dimension, value), (1,), sign)
    if with_terms:
        add_term_contributions(deltas, facts, nodes, terms_from=terms_from, sign=sign)
    if with_departments:
        add_department_contributions(deltas, facts, nodes, sign=sign)


def add_term_contributions(
    deltas: Deltas, facts: Facts, nodes: Sequence[int], *, terms_from: dt.date | None, sign: int = 1
) -> None:
    if not facts.received or not facts.terms or terms_from is None or facts.day < terms_from:
        return
    for node in nodes:
        for term in facts.terms:
            _add(deltas["term"], (node, facts.day, term), (1,), sign)


def add_department_contributions(
    deltas: Deltas, facts: Facts, nodes: Sequence[int], *, sign: int = 1
) -> None:
    day, counts = facts.day, facts.counts()
    for department, (summoned, reported_in, late, waits) in facts.departments().items():
        department_id = int(department)
        for node in nodes:
            _add(deltas["department"], (node, day, department_id), (summoned, reported_in, late), sign)
        _add(deltas["department_daily"], (department_id, day), (*counts, summoned, reported_in, late), sign)
        for bucket in waits:
            _add(deltas["department_wait"], (department_id, day, bucket), (1,), sign)


def add_difference(
    deltas: Deltas, old: Facts | None, new: Facts, nodes: Sequence[int], *, terms_from: dt.date | None
) -> None:
    """Add what `new` contributes and take away what `old` did (the same ticket before a batch).
    The words and the summonses, which most events leave alone, are skipped when unchanged."""
    if old is None:
        add_contributions(deltas, new, nodes, terms_from=terms_from)
        return
    with_terms = (old.received, old.day, old.terms) != (new.received, new.day, new.terms)
    with_departments = old.summonses != new.summonses or (old.summoned and old.counts() != new.counts())
    for facts, sign in ((old, -1), (new, 1)):
        add_contributions(
            deltas,
            facts,
            nodes,
            terms_from=terms_from,
            sign=sign,
            with_terms=with_terms,
            with_departments=bool(with_departments),
        )


def clone(facts: Facts) -> Facts:
    """A copy the fold cannot change (it changes the lists and the summonses in place)."""
    return replace(
        facts,
        terms=list(facts.terms),
        department_events=list(facts.department_events),
        summonses=copy.deepcopy(facts.summonses) if facts.summonses else {},
    )


def changed_rows(deltas: Deltas) -> Iterable[tuple[str, dict[tuple[Any, ...], list[int]]]]:
    """Each table's rows with a change (all-zero deltas dropped)."""
    for table, rows in deltas.items():
        changed = {key: values for key, values in rows.items() if any(values)}
        if changed:
            yield table, changed
