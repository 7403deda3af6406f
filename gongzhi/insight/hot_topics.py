"""Hot topics (热点): the most frequent words (jieba, via `gongzhi.tickets.text.tokens`) and categories of
the tickets received under a node this week so far, against the same days of last week.

Read from the roll-ups only: the worker counts each new ticket's words when it folds the submission
(`TermRollup`, kept for the last two weeks; a merge takes them back out) and its category beside the
other dimensions (`NodeDimensionRollup`; a grid's from its own facts). Two queries, whatever the
volume of tickets.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, Value, When

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.core import clock
from gongzhi.insight.models import NodeDimensionRollup, TermRollup, TicketFacts
from gongzhi.territory.models import Node, NodeKind
from gongzhi.tickets.text import tokens

TOP = 10
MAX_TERM = 32  # TermRollup.term
# Address parts (3号楼, 2单元) and numbers are places, not topics.
_NOT_A_TOPIC = re.compile(r"^\d|[\d]$")


def topic_terms(text: str) -> tuple[str, ...]:
    """The words of a description that count for hot topics, each once, in order of appearance."""
    seen: dict[str, None] = {}
    for word in tokens(text):
        if len(word) <= MAX_TERM and not _NOT_A_TOPIC.search(word):
            seen.setdefault(word, None)
    return tuple(seen)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def terms_from_day(today: dt.date) -> dt.date:
    """The first day whose words are kept: Monday of last week."""
    return week_start(today) - dt.timedelta(days=7)


@dataclass(frozen=True)
class Topic:
    label: str
    this_week: int
    last_week: int

    @property
    def change(self) -> int:
        return self.this_week - self.last_week


@dataclass(frozen=True)
class HotTopics:
    week_start: dt.date  # this week's Monday (local date)
    today: dt.date  # the week so far ends here; last week is counted to the same weekday
    terms: list[Topic]
    categories: list[Topic]


def _two_weeks(rows: QuerySet[Any], today: dt.date, key: str, measure: Any = None) -> list[dict[str, Any]]:
    """Per `key`, its count (`measure`: a roll-up's "count", by default) this week so far and on the
    same days last week; the top ones."""
    measure = measure if measure is not None else F("count")
    monday = week_start(today)
    last_monday, last_today = monday - dt.timedelta(days=7), today - dt.timedelta(days=7)
    this_week = Q(day__gte=monday, day__lte=today)
    return list(
        rows.filter(this_week | Q(day__gte=last_monday, day__lte=last_today))
        .values(key)
        .annotate(
            this_week=Sum(Case(When(this_week, then=measure), default=0, output_field=IntegerField())),
            last_week=Sum(Case(When(this_week, then=0), default=measure, output_field=IntegerField())),
        )
        .order_by("-this_week", key)[:TOP]
    )


def _ranked(
    rows: Sequence[Mapping[str, Any]], key: str, labels: Mapping[str, str] | None = None
) -> list[Topic]:
    return [
        Topic((labels or {}).get(row[key], row[key]), int(row["this_week"] or 0), int(row["last_week"] or 0))
        for row in rows
        if row["this_week"]
    ]


def hot_topics(*, actor: Actor, node: Node, category_names: Mapping[str, str] | None = None) -> HotTopics:
    """This week's (Monday to today) most frequent words and categories of the node's subtree, each
    with its count on the same days of last week. 404 when the node is outside the actor's scope.
    `category_names` (category id as text → name) saves a query when the caller has them."""
    actor.ensure_can(Perm.VIEW_TICKETS, node.path)
    today = clock.today()
    terms = _two_weeks(TermRollup.objects.filter(node=node), today, "term")
    if node.kind == NodeKind.GRID:  # a grid's categories from its own facts (definitions.DIMENSIONS)
        facts = TicketFacts.objects.filter(grid=node, received=1)
        categories = [
            {**row, "value": str(row["category_id"])}
            for row in _two_weeks(facts, today, "category_id", Value(1))
        ]
    else:
        rows = NodeDimensionRollup.objects.filter(node=node, dimension="category")
        categories = _two_weeks(rows, today, "value")
    if category_names is None:
        from gongzhi.tickets.models import Category

        wanted = [int(row["value"]) for row in categories]
        category_names = {
            str(pk): name for pk, name in Category.objects.filter(pk__in=wanted).values_list("pk", "name")
        }
    return HotTopics(
        week_start=week_start(today),
        today=today,
        terms=_ranked(terms, "term"),
        categories=_ranked(categories, "value", category_names),
    )
