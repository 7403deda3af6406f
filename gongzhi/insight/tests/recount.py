"""A brute-force recount of every roll-up from the raw tickets, events and summonses, written apart
from the incremental fold (from the rules in `definitions.py`), for the tests to compare with.

Where the fold reads events, this reads the tickets' own rows when it can: the open state is the
ticket's `state`, a report-in's wait is `Summons.reported_at − Whistle.created_at`, the words are
those of the ticket's description now.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from django.utils import timezone

from gongzhi.insight.definitions import COUNT_FIELDS, DASHBOARD_KINDS, duration_bucket
from gongzhi.insight.facts import TABLES
from gongzhi.insight.hot_topics import terms_from_day, topic_terms
from gongzhi.insight.models import TermRollup
from gongzhi.insight.services import TABLE_MODELS
from gongzhi.territory.models import Node
from gongzhi.tickets.models import EventAction, Summons, Ticket
from gongzhi.tickets.workflow import AWAITING_RESOLUTION, AWAITING_RESPONSE

Key = tuple[Any, ...]
Tables = dict[str, dict[Key, Counter[str]]]


def _dashboard_nodes(grid: Node) -> list[int]:
    """The grid and the districts, subdistricts and communities above it, from the tree as it is."""
    return list(
        Node.objects.filter(path__in=grid.ancestor_paths, kind__in=DASHBOARD_KINDS).values_list(
            "pk", flat=True
        )
    )


def _ticket_facts(ticket: Ticket, events: list[Any]) -> dict[str, Any] | None:
    """None for a merged ticket; else its counts and durations."""
    actions = [event.action for event in events]
    if EventAction.MERGED in actions:
        return None
    submitted = next(event for event in events if event.action == EventAction.SUBMITTED)
    accepts = [event for event in events if event.action == EventAction.ACCEPTED]
    outcomes = [event for event in events if event.action in (EventAction.RESOLVED, EventAction.REOPENED)]
    ratings = [event for event in events if event.action == EventAction.RATED]
    resolved = bool(outcomes) and outcomes[-1].action == EventAction.RESOLVED
    level = max(
        event.to_level
        for event in events
        if event.to_level is not None
        and event.action in (EventAction.SUBMITTED, EventAction.ESCALATED, EventAction.REOPENED)
    )
    return {
        "level": level,
        "counts": {
            "received": 1,
            "responded": int(bool(accepts)),
            "responded_on_time": int(bool(accepts) and accepts[0].data["on_time"]),
            "resolved": int(resolved),
            "resolved_on_time": int(resolved and outcomes[-1].data["on_time"]),
            "rated": int(bool(ratings)),
            "satisfied": int(bool(ratings) and ratings[-1].data["rating"] != "unsatisfied"),
            "reopened": int(EventAction.REOPENED in actions),
            "escalated": int(EventAction.ESCALATED in actions),
        },
        "respond": (accepts[0].at - submitted.at).total_seconds() if accepts else None,
        "resolve": (outcomes[-1].at - submitted.at).total_seconds() if resolved else None,
    }


def recount(*, today: dt.date | None = None) -> Tables:
    tables: Tables = {name: defaultdict(Counter) for name in TABLES}
    terms_from = terms_from_day(today or timezone.localdate())
    waits: dict[int, list[tuple[int, float]]] = defaultdict(list)  # ticket → (department, seconds)
    for summons in Summons.objects.filter(reported_at__isnull=False).select_related("whistle"):
        waits[summons.whistle.ticket_id].append(
            (summons.department_id, (summons.reported_at - summons.whistle.created_at).total_seconds())
        )
    for ticket in Ticket.objects.select_related("grid").prefetch_related("events"):
        events = sorted(ticket.events.all(), key=lambda event: event.pk)
        submitted = next(event for event in events if event.action == EventAction.SUBMITTED)
        day = timezone.localtime(submitted.at).date()
        nodes = _dashboard_nodes(ticket.grid)
        facts = _ticket_facts(ticket, events)
        counts = Counter(facts["counts"]) if facts else Counter()
        departments: dict[int, Counter[str]] = defaultdict(Counter)
        for event in events:
            if event.action == EventAction.WHISTLED:
                for department in event.data["departments"]:
                    departments[department]["summoned"] += 1
            elif event.action == EventAction.REPORTED_IN:
                departments[event.data["department"]]["reported_in"] += 1
                departments[event.data["department"]]["reported_late"] += int(event.data["late"])
        for department, summonses in departments.items():
            tables["department_daily"][(department, day)].update(counts + summonses)
            for node in nodes:
                tables["department"][(node, day, department)].update(summonses)
        for department, seconds in waits[ticket.pk]:
            tables["department_wait"][(department, day, duration_bucket(seconds))]["count"] += 1
        is_open = {
            "awaiting_response": int(ticket.state in AWAITING_RESPONSE),
            "awaiting_resolution": int(ticket.state in AWAITING_RESOLUTION),
        }
        for node in nodes:
            tables["node_open"][(node,)].update(is_open)
        if facts is None:
            continue
        key = (day, ticket.grid_id, ticket.category_id, ticket.channel, ticket.kind, facts["level"])
        tables["daily"][key].update(counts)
        values = {
            "kind": ticket.kind,
            "category": str(ticket.category_id),
            "channel": ticket.channel,
            "level": str(facts["level"]),
        }
        for measure in ("respond", "resolve"):
            if facts[measure] is not None:
                values[measure] = str(duration_bucket(facts[measure]))
        words = topic_terms(ticket.description) if day >= terms_from else ()
        for node in nodes:
            tables["node_daily"][(node, day)].update(counts)
            for dimension, value in values.items() if node != ticket.grid_id else ():
                tables["node_dimension"][(node, day, dimension, value)]["count"] += 1
            for word in words:
                tables["term"][(node, day, word)]["count"] += 1
    return {name: _nonzero(rows) for name, rows in tables.items()}


def _nonzero(table: dict[Key, Counter[str]]) -> dict[Key, Counter[str]]:
    return {key: +counts for key, counts in table.items() if +counts}


def stored(*, today: dt.date | None = None) -> Tables:
    """Every roll-up row as stored (hot-topic words of the kept days only)."""
    tables: Tables = {}
    terms_from = terms_from_day(today or timezone.localdate())
    for name, (keys, values) in TABLES.items():
        rows = TABLE_MODELS[name].objects.all()
        if TABLE_MODELS[name] is TermRollup:
            rows = rows.filter(day__gte=terms_from)
        tables[name] = _nonzero(
            {
                tuple(row[key] for key in keys): Counter({value: row[value] for value in values})
                for row in rows.values(*keys, *values)
            }
        )
    return tables


assert set(COUNT_FIELDS) <= set(TABLES["daily"][1])
