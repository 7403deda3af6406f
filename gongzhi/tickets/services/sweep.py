"""The periodic sweep: escalate overdue tickets, remind late departments, close unrated tickets.

A department that has not reported in by its deadline is reminded then, and again every report-in
period (its category's) until it reports in; each reminder is counted on the summons and the ticket.

Idempotent by construction: each overdue ticket is changed with compare-and-set on its version
and its deadline moves forward in the same write, so two sweeps at once, or one after the worker
was down for a day, escalate a ticket once, not once per missed period.

Set-wise, so that a pass after an outage (thousands due at once) stays short: the due rows are
listed in one query per kind (through the partial indexes made for it, see `due_listing`), then
handled in chunks of `CHUNK`, each chunk one transaction that

1. locks the chunk's rows that are still due (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so a second
   sweep running at the same moment takes other rows instead of waiting; SQLite's IMMEDIATE
   transactions serialise writers anyway) and keeps those whose version is still the listed one;
2. writes them with one compare-and-set UPDATE per group of rows that get the same values
   (`WHERE pk IN (…) AND version = v AND state IN (…) AND due <= now`), and rolls the whole chunk
   back if any group changed fewer rows than it locked;
3. bulk-inserts the events and the outbox rows (the same rows, keys and payloads as
   `notices.notify_staff` writes for one event).

A run makes passes of up to `batch` rows of each kind until nothing more is due or its time
budget (`SWEEP_BUDGET_SECONDS`) is spent, so a backlog after an outage clears in one run or a
few, not at one batch a minute. Routing, handlers, deadlines, categories, nodes and webhook
endpoints are read once per run (`_Pass`). Measured with `bench/tickets.py --only sweep`
(bench/README.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role, User
from gongzhi.core import clock
from gongzhi.notifications.models import Notification, NotificationChannel, WebhookEndpoint
from gongzhi.notifications.services import _kick_after_commit
from gongzhi.territory.models import Node
from gongzhi.tickets.deadlines import add_duration
from gongzhi.tickets.models import Category, EventAction, Summons, Ticket, TicketEvent
from gongzhi.tickets.routing import (
    LEVEL_HANDLERS,
    LEVEL_SUPERVISORS,
    department_handlers,
    handlers_of,
    owner_for_level,
)
from gongzhi.tickets.services.notices import _payload
from gongzhi.tickets.workflow import AWAITING_RESOLUTION, AWAITING_RESPONSE, Level, TicketState

logger = logging.getLogger(__name__)

# A run's passes stop after this long (the run is every minute; the huey lock keeps two runs of
# the periodic task from overlapping): after an outage the backlog clears a budget a minute.
SWEEP_BUDGET_SECONDS = 30.0

# Rows per transaction: short enough that a handler's "accept" never waits long on a sweep's
# locks, long enough that the per-transaction cost is spread over many tickets.
CHUNK = 200


@dataclass
class SweepResult:
    escalated: int = 0
    reminded: int = 0
    closed: int = 0
    departments_reminded: int = 0


class _LostRace(Exception):
    """A compare-and-set group changed fewer rows than were locked: roll the chunk back."""


class _Pass:
    """What one run of the sweep reads once: owners per (grid, level), handlers per (node, roles),
    deadlines per category policy, categories, nodes and the active webhook endpoints. Lives for
    one run only (its passes share it), so a role or an endpoint changed between runs is seen by
    the next one."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        # The outbox's own clock, as `notify` reads it (the sweep's `now` may be given by the caller).
        self.queued_at = clock.now()
        self._owners: dict[tuple[int, int], tuple[int, Node]] = {}
        self._nodes: dict[int, Node] = {}
        self._categories: dict[int, Category] | None = None
        self._handlers: dict[tuple[int, tuple[Role, ...]], list[User]] = {}
        self._departments: dict[int, list[User]] = {}
        self._deadlines: dict[tuple[int, str], dt.datetime] = {}
        self._endpoints: list[WebhookEndpoint] | None = None

    def attach_related(self, tickets: Sequence[Ticket]) -> None:
        """Give the tickets their category, grid and owner (and address, for webhooks) from the
        pass's own copies: a few hundred shared rows instead of four joined rows per ticket."""
        if self._categories is None:
            self._categories = Category.objects.in_bulk()
        with_address = bool(self.endpoints(None))
        wanted = {t.grid_id for t in tickets} | {t.owner_node_id for t in tickets}
        if with_address:
            wanted |= {t.node_id for t in tickets}
        missing = wanted - self._nodes.keys()
        if missing:
            self._nodes.update(Node.objects.in_bulk(missing))
        for ticket in tickets:
            ticket.category = self._categories[ticket.category_id]
            ticket.grid = self._nodes[ticket.grid_id]
            ticket.owner_node = self._nodes[ticket.owner_node_id]
            if with_address:
                ticket.node = self._nodes[ticket.node_id]

    def owner(self, grid: Node, level: int) -> tuple[int, Node]:
        key = (grid.pk, level)
        if key not in self._owners:
            self._owners[key] = owner_for_level(grid, level)
        return self._owners[key]

    def handlers(self, node: Node, roles: tuple[Role, ...]) -> list[User]:
        key = (node.pk, roles)
        if key not in self._handlers:
            self._handlers[key] = handlers_of(node, roles)
        return self._handlers[key]

    def department_handlers(self, department_id: int) -> list[User]:
        if department_id not in self._departments:
            self._departments[department_id] = department_handlers([department_id])
        return self._departments[department_id]

    def deadline(self, category: Category, overdue: str) -> dt.datetime:
        """The next deadline from now for `overdue` ("response", "resolution" or "report_in")."""
        minutes = {
            "response": category.response_minutes,
            "resolution": category.resolution_minutes,
            "report_in": category.report_in_period(),
        }[overdue]
        key = (minutes, category.counting)
        if key not in self._deadlines:
            self._deadlines[key] = add_duration(self.now, minutes, category.counting)
        return self._deadlines[key]

    def endpoints(self, organization_ids: Iterable[int] | None) -> list[WebhookEndpoint]:
        """As `notify` selects them: all active ones, or those of the organizations and the global ones."""
        if self._endpoints is None:
            self._endpoints = list(WebhookEndpoint.objects.filter(is_active=True).order_by("pk"))
        if organization_ids is None:
            return self._endpoints
        wanted = set(organization_ids)
        return [e for e in self._endpoints if e.organization_id is None or e.organization_id in wanted]


@dataclass
class _Notice:
    ticket: Ticket
    event: TicketEvent
    users: list[User]
    subject: str
    organization_ids: list[int] | None = None


def _notify_staff_many(run: _Pass, notices: Sequence[_Notice]) -> None:
    """`notices.notify_staff` for many events in one insert: the same outbox rows, keys and payloads.

    Call inside the transaction of the events. The events are new, so their keys are too; a row
    that exists anyway is left alone (`ignore_conflicts`), as `notify` does.
    """
    rows: list[Notification] = []
    for notice in notices:
        ticket, event = notice.ticket, notice.event
        key = f"ticket-event:{event.pk}:staff"
        event_type = f"ticket.{event.action}"
        common = {
            "event_type": event_type,
            "subject": notice.subject[:200],
            "body": ticket.description[:200],
            "url": reverse("tickets:detail", args=[ticket.number]),
            "created_at": run.queued_at,
            "next_attempt_at": run.queued_at,
        }
        for user in {u.pk: u for u in notice.users}.values():
            rows.append(
                Notification(
                    channel=NotificationChannel.INBOX,
                    user=user,
                    dedupe_key=f"{key}:inbox:{user.pk}",
                    **common,
                )
            )
        endpoints = [e for e in run.endpoints(notice.organization_ids) if e.hears(event_type)]
        payload = _payload(ticket, event) if endpoints else {}
        for endpoint in endpoints:
            rows.append(
                Notification(
                    channel=NotificationChannel.WEBHOOK,
                    webhook=endpoint,
                    payload=payload,
                    dedupe_key=f"{key}:webhook:{endpoint.pk}",
                    **common,
                )
            )
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        # The outbox's own kick after commit (debounced there), as `notify` does.
        _kick_after_commit()


def _chunks(rows: Sequence[tuple[int, int]]) -> Iterable[dict[int, int]]:
    for start in range(0, len(rows), CHUNK):
        yield dict(rows[start : start + CHUNK])


def _cas_update(model_rows: Iterable[tuple[int, int]], filters: dict[str, object], **values: object) -> None:
    """Compare-and-set many (pk, version) rows to the same `values`: one UPDATE per version.

    Raises _LostRace when fewer rows changed than were given (the caller holds their locks, so
    this means something is wrong, and the chunk is rolled back rather than half written).
    """
    by_version: dict[int, list[int]] = defaultdict(list)
    for pk, version in model_rows:
        by_version[version].append(pk)
    for version, pks in by_version.items():
        rows = Ticket.objects.filter(pk__in=pks, version=version, **filters).update(
            version=F("version") + 1, **values
        )
        if rows != len(pks):
            raise _LostRace(f"{rows} of {len(pks)} tickets changed")


def _escalate_chunk(versions: dict[int, int], *, overdue: str, run: _Pass) -> tuple[int, int]:
    """Escalate the listed tickets still overdue at their listed version; (escalated, reminded).

    A ticket changed since it was listed (accepted, escalated by another sweep) is left alone.
    """
    try:
        with transaction.atomic():
            return _escalate_locked(versions, overdue=overdue, run=run)
    except _LostRace as error:
        logger.warning("tickets sweep: a chunk lost a race and was rolled back (%s)", error)
        return 0, 0


# What an escalation reads of a ticket (its notices included); the related rows come from the pass.
_ESCALATION_FIELDS = (
    "pk",
    "version",
    "number",
    "description",
    "reporter_name",  # masked in the webhooks' description
    "state",
    "level",
    "reminders",
    "category",
    "grid",
    "owner_node",
    "node",
)


def _escalate_locked(versions: dict[int, int], *, overdue: str, run: _Pass) -> tuple[int, int]:
    now = run.now
    states = AWAITING_RESPONSE if overdue == "response" else AWAITING_RESOLUTION
    due_field = "response_due_at" if overdue == "response" else "resolution_due_at"
    still_due = {"state__in": states, f"{due_field}__lte": now}
    locked = (
        Ticket.objects.select_for_update(skip_locked=True)
        .only(*_ESCALATION_FIELDS)
        .filter(pk__in=list(versions), **still_due)
        .order_by("pk")
    )
    tickets = [ticket for ticket in locked if ticket.version == versions[ticket.pk]]
    run.attach_related(tickets)
    # One UPDATE per group of tickets that get the same values (and per version, in _cas_update):
    # the new deadline, and the (level, owner) they move to, or None at the top level.
    groups: dict[tuple[dt.datetime, tuple[int, Node] | None], list[Ticket]] = defaultdict(list)
    old_levels: dict[int, int] = {}
    for ticket in tickets:
        level, owner = run.owner(ticket.grid, min(ticket.level + 1, Level.SUBDISTRICT))
        move = (level, owner) if level != ticket.level else None
        groups[(run.deadline(ticket.category, overdue), move)].append(ticket)
        old_levels[ticket.pk] = ticket.level
    for (due_at, move), members in groups.items():
        values: dict[str, object] = {due_field: due_at, "reminders": F("reminders") + 1, "updated_at": now}
        if move is not None:
            values.update(level=move[0], owner_node=move[1], assignee=None)
        _cas_update(((t.pk, t.version) for t in members), still_due, **values)
        for ticket in members:
            setattr(ticket, due_field, due_at)
            ticket.reminders += 1
            ticket.version += 1
            ticket.updated_at = now
            if move is not None:
                ticket.level, ticket.owner_node, ticket.assignee = move[0], move[1], None
    events = TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                ticket=ticket,
                at=now,
                actor_label="system",
                action=EventAction.ESCALATED
                if ticket.level != old_levels[ticket.pk]
                else EventAction.REMINDED,
                from_level=old_levels[ticket.pk],
                to_level=ticket.level,
                is_public=ticket.level != old_levels[ticket.pk],
                data={"overdue": overdue, "reminders": ticket.reminders},
            )
            for ticket in tickets
        ]
    )
    if overdue == "response":
        subject = _("Overdue response on ticket %(number)s: now with the %(level)s")
    else:
        subject = _("Overdue resolution on ticket %(number)s: now with the %(level)s")
    notices = []
    for ticket, event in zip(tickets, events, strict=True):
        old_level = old_levels[ticket.pk]
        users = run.handlers(ticket.owner_node, LEVEL_HANDLERS[ticket.level]) + run.handlers(
            ticket.owner_node, LEVEL_SUPERVISORS[ticket.level]
        )
        if ticket.level != old_level:
            users = users + run.handlers(run.owner(ticket.grid, old_level)[1], LEVEL_SUPERVISORS[old_level])
        notices.append(
            _Notice(
                ticket,
                event,
                users,
                subject % {"number": ticket.number, "level": ticket.get_level_display()},
            )
        )
    _notify_staff_many(run, notices)
    escalated = sum(event.action == EventAction.ESCALATED for event in events)
    return escalated, len(events) - escalated


def _close_unrated_chunk(versions: dict[int, int], now: dt.datetime) -> int:
    """Close the listed resolved tickets whose rating window ended, at their listed version."""
    still_due = {"state": TicketState.RESOLVED, "rating_due_at__lte": now}
    try:
        with transaction.atomic():
            locked = (
                Ticket.objects.select_for_update(skip_locked=True)
                .filter(pk__in=list(versions), **still_due)
                .order_by("pk")
                .values_list("pk", "version")
            )
            rows = [(pk, version) for pk, version in locked if versions[pk] == version]
            _cas_update(
                rows, still_due, state=TicketState.CLOSED, closed_at=now, rating_due_at=None, updated_at=now
            )
            TicketEvent.objects.bulk_create(
                [
                    TicketEvent(
                        ticket_id=pk,
                        at=now,
                        actor_label="system",
                        action=EventAction.CLOSED,
                        from_state=TicketState.RESOLVED,
                        to_state=TicketState.CLOSED,
                        data={"unrated": True},
                    )
                    for pk, _version in rows
                ]
            )
            return len(rows)
    except _LostRace as error:
        logger.warning("tickets sweep: a chunk lost a race and was rolled back (%s)", error)
        return 0


def _remind_departments_chunk(summons_ids: list[int], run: _Pass) -> int:
    """Remind each listed department that has still not reported in and whose reminder is due (催办):
    count it on the summons and on the ticket, and schedule the next one a report-in period later
    (the category's, counted as its deadlines are), until the department reports in."""
    now = run.now
    still_due = {"reported_at__isnull": True, "remind_at__lte": now}
    with transaction.atomic():
        summonses = list(
            Summons.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related(
                "whistle__ticket__category", "whistle__ticket__node", "whistle__node", "department"
            )
            .filter(pk__in=summons_ids, **still_due)
            .order_by("pk")
        )
        if not summonses:
            return 0
        # One UPDATE per next-reminder time (a few: one per category policy in the chunk).
        by_next: dict[dt.datetime, list[Summons]] = defaultdict(list)
        for summons in summonses:
            by_next[run.deadline(summons.whistle.ticket.category, "report_in")].append(summons)
        for next_at, members in by_next.items():
            changed = Summons.objects.filter(pk__in=[s.pk for s in members], **still_due).update(
                reminders=F("reminders") + 1, reminded_at=now, remind_at=next_at
            )
            if changed != len(members):  # we hold their locks: something is wrong, write nothing
                raise _LostRace(f"{changed} of {len(members)} summonses changed")
            for summons in members:
                summons.reminders += 1
        # A ticket summoning several late departments counts one reminder for each.
        per_ticket = Counter(s.whistle.ticket_id for s in summonses)
        by_count: dict[int, list[int]] = defaultdict(list)
        for ticket_id, count in per_ticket.items():
            by_count[count].append(ticket_id)
        for count, ticket_ids in by_count.items():
            Ticket.objects.filter(pk__in=ticket_ids).update(reminders=F("reminders") + count)
        events = TicketEvent.objects.bulk_create(
            [
                TicketEvent(
                    ticket=s.whistle.ticket,
                    at=now,
                    actor_label="system",
                    action=EventAction.REMINDED,
                    is_public=False,
                    data={
                        "summons": s.pk,
                        "department": s.department_id,
                        "overdue": "report_in",
                        "reminders": s.reminders,
                    },
                )
                for s in summonses
            ]
        )
        _notify_staff_many(
            run,
            [
                _Notice(
                    s.whistle.ticket,
                    event,
                    run.department_handlers(s.department_id)
                    + run.handlers(s.whistle.node, LEVEL_HANDLERS[s.whistle.level]),
                    _("%(department)s has not reported in on ticket %(number)s (reminder %(n)d)")
                    % {"department": s.department.name, "number": s.whistle.ticket.number, "n": s.reminders},
                    organization_ids=[s.department_id],
                )
                for s, event in zip(summonses, events, strict=True)
            ],
        )
        return len(summonses)


def partial_index_condition(index_name: str) -> RawSQL:
    """The condition of one of Ticket's partial indexes (the sweep's), its values written into the SQL.

    SQLite uses a partial index only when the query repeats the index's condition with the same
    literal values in the same order; with bound parameters (what Django sends) it scans every
    ticket instead, about 0.15 s per listing at 1M open. The values are the model's own constants.
    """
    index = next(index for index in Ticket._meta.indexes if index.name == index_name)
    children: list[Any] = list(index.condition.children) if isinstance(index.condition, Q) else []
    lookup, value = children[0] if len(children) == 1 and isinstance(children[0], tuple) else ("", "")
    values = list(value) if lookup == "state__in" else [value] if lookup == "state" else []
    if not values or not set(values) <= set(TicketState.values):
        raise ValueError(f"{index_name} is not a partial index on ticket states")
    column = connection.ops.quote_name("state")
    literals = ", ".join(f"'{state}'" for state in values)  # states are [a-z_]+
    sql = f"{column} IN ({literals})" if lookup == "state__in" else f"{column} = {literals}"
    return RawSQL(sql, (), output_field=BooleanField())


def due_listing(index_name: str, field: str, now: dt.datetime) -> QuerySet[Ticket]:
    """Tickets with `field` due at `now`, oldest first, read through the partial index `index_name`."""
    return Ticket.objects.filter(partial_index_condition(index_name), **{f"{field}__lte": now}).order_by(
        field
    )


def tickets_sweep(
    *, now: dt.datetime | None = None, batch: int = 1000, budget_seconds: float = SWEEP_BUDGET_SECONDS
) -> SweepResult:
    """Everything due at `now`, in passes of up to `batch` rows of each kind (short transactions).

    After a long outage thousands may be due at once: passes follow one another while a pass
    found a full batch of some kind (there may be more) and changed something, until
    `budget_seconds` have gone by (measured after each pass; 0: one pass). What is left is due
    at the next run, a minute later.
    """
    now = now or clock.now()
    run = _Pass(now)
    result = SweepResult()
    started = time.monotonic()
    while True:
        before = replace(result)
        full = _sweep_pass(run, result, batch)
        if not full or result == before or time.monotonic() - started >= budget_seconds:
            return result


def _sweep_pass(run: _Pass, result: SweepResult, batch: int) -> bool:
    """One pass: up to `batch` rows of each kind, added to `result`; True when a kind had a full batch."""
    now = run.now
    full = False
    for overdue, index, field in (
        ("response", "ticket_response_due_open", "response_due_at"),
        ("resolution", "ticket_resolution_due_open", "resolution_due_at"),
    ):
        due = list(due_listing(index, field, now).values_list("pk", "version")[:batch])
        full |= len(due) == batch
        for versions in _chunks(due):
            escalated, reminded = _escalate_chunk(versions, overdue=overdue, run=run)
            result.escalated += escalated
            result.reminded += reminded
    unrated = list(
        due_listing("ticket_rating_due", "rating_due_at", now).values_list("pk", "version")[:batch]
    )
    full |= len(unrated) == batch
    for versions in _chunks(unrated):
        result.closed += _close_unrated_chunk(versions, now)
    late = list(
        Summons.objects.filter(reported_at__isnull=True, remind_at__lte=now)
        .order_by("remind_at")
        .values_list("pk", flat=True)[:batch]
    )
    full |= len(late) == batch
    for start in range(0, len(late), CHUNK):
        try:
            result.departments_reminded += _remind_departments_chunk(late[start : start + CHUNK], run)
        except _LostRace as error:
            logger.warning("tickets sweep: a chunk lost a race and was rolled back (%s)", error)
    return full
