"""Hot topics (热点): the most frequent words (jieba, via `gongzhi.tickets.text.tokens`) and categories of
the tickets received in a node's subtree this week, against last week.

One indexed query: the tickets of the subtree's grids (`ticket_grid_submitted`: grid, submitted_at)
submitted since last Monday, only their description and category. Cached ten minutes per node and
week, so a busy dashboard tokenizes at most once in that time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.core import clock
from gongzhi.territory.models import Node, NodeKind, subtree_q
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.text import tokens

CACHE_SECONDS = 10 * 60
TOP = 10


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
    terms: list[Topic]
    categories: list[Topic]


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _ranked(this_week: Counter[str], last_week: Counter[str]) -> list[Topic]:
    top = sorted(this_week.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return [Topic(label, count, last_week.get(label, 0)) for label, count in top]


def _compute(node: Node, week_start: dt.date) -> HotTopics:
    since = _local_midnight(week_start - dt.timedelta(days=7))
    middle = _local_midnight(week_start)
    grids = Node.objects.filter(subtree_q("path", node.path), kind=NodeKind.GRID).values("pk")
    rows = Ticket.objects.filter(
        grid_id__in=grids, submitted_at__gte=since, merged_into__isnull=True
    ).values_list("submitted_at", "description", "category__name")
    terms: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    categories: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    for submitted_at, description, category in rows.order_by():
        index = 0 if submitted_at >= middle else 1
        # A word counts once per ticket: one long complaint should not outweigh ten short ones.
        terms[index].update(set(tokens(description)))
        categories[index][category] += 1
    return HotTopics(
        week_start=week_start,
        terms=_ranked(*terms),
        categories=_ranked(*categories),
    )


def hot_topics(*, actor: Actor, node: Node) -> HotTopics:
    """This week's (Monday to now) most frequent terms and categories of the node's subtree, with
    last week's count of each. 404 when the node is outside the actor's scope."""
    actor.ensure_can(Perm.VIEW_TICKETS, node.path)
    week_start = _week_start(clock.today())
    key = f"insight:hot-topics:{node.pk}:{week_start.isoformat()}"
    found = cache.get(key)
    if isinstance(found, HotTopics):
        return found
    found = _compute(node, week_start)
    cache.set(key, found, CACHE_SECONDS)
    return found
