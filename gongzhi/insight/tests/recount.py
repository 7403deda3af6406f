"""A brute-force recount of the roll-ups from the raw ticket events, written apart from the
incremental fold (from the rules in `definitions.py`), for the tests to compare with."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.utils import timezone

from gongzhi.insight.definitions import COUNT_FIELDS, DEPARTMENT_COUNT_FIELDS
from gongzhi.insight.models import DailyRollup, DepartmentRollup
from gongzhi.tickets.models import EventAction, Ticket

Key = tuple[Any, ...]


def recount() -> tuple[dict[Key, Counter[str]], dict[Key, Counter[str]]]:
    daily: dict[Key, Counter[str]] = defaultdict(Counter)
    departments: dict[Key, Counter[str]] = defaultdict(Counter)
    for ticket in Ticket.objects.prefetch_related("events"):
        events = sorted(ticket.events.all(), key=lambda event: event.pk)
        actions = [event.action for event in events]
        submitted = next(event for event in events if event.action == EventAction.SUBMITTED)
        day = timezone.localtime(submitted.at).date()
        for event in events:
            if event.action == EventAction.WHISTLED:
                for department in event.data["departments"]:
                    departments[(day, ticket.grid_id, department)]["summoned"] += 1
            elif event.action == EventAction.REPORTED_IN:
                row = departments[(day, ticket.grid_id, event.data["department"])]
                row["reported_in"] += 1
                row["reported_late"] += int(event.data["late"])
        if EventAction.MERGED in actions:
            continue
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
        facts = {
            "received": 1,
            "responded": int(bool(accepts)),
            "responded_on_time": int(bool(accepts) and accepts[0].data["on_time"]),
            "resolved": int(resolved),
            "resolved_on_time": int(resolved and outcomes[-1].data["on_time"]),
            "rated": int(bool(ratings)),
            "satisfied": int(bool(ratings) and ratings[-1].data["rating"] != "unsatisfied"),
            "reopened": int(EventAction.REOPENED in actions),
            "escalated": int(EventAction.ESCALATED in actions),
        }
        daily[(day, ticket.grid_id, ticket.category_id, ticket.channel, ticket.kind, level)].update(facts)
    return _nonzero(daily), _nonzero(departments)


def _nonzero(table: dict[Key, Counter[str]]) -> dict[Key, Counter[str]]:
    return {key: +counts for key, counts in table.items() if +counts}


def stored() -> tuple[dict[Key, Counter[str]], dict[Key, Counter[str]]]:
    daily = {
        (row.day, row.grid_id, row.category_id, row.channel, row.kind, row.level): Counter(
            {name: getattr(row, name) for name in COUNT_FIELDS}
        )
        for row in DailyRollup.objects.all()
    }
    departments = {
        (row.day, row.grid_id, row.department_id): Counter(
            {name: getattr(row, name) for name in DEPARTMENT_COUNT_FIELDS}
        )
        for row in DepartmentRollup.objects.all()
    }
    return _nonzero(daily), _nonzero(departments)
