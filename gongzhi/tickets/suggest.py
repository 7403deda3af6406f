"""Suggesting a category from the words of a description, as the resident types.

A category scores by its keywords (back-office configured, space-separated) found in the text,
its name's words among the text's words, and the words residents actually used in recent
tickets of that category (learned; recomputed at most every few minutes and kept in the cache).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.core.cache import cache

from gongzhi.tickets.models import Category, Ticket
from gongzhi.tickets.text import normalize, tokens

LEARN_FROM_TICKETS = 2000  # the most recent tickets whose words are learned
LEARN_TOP_WORDS = 40  # per category
LEARN_MIN_TICKETS = 2  # a word used once is not learned
LEARNED_CACHE_KEY = "tickets:suggest:learned:v1"
LEARNED_CACHE_SECONDS = 10 * 60

KEYWORD_WEIGHT = 3.0
NAME_WEIGHT = 2.0
LEARNED_WEIGHT = 2.0


def _learn() -> dict[int, dict[str, float]]:
    """Per category, the share of its recent tickets using each word, divided by the number of
    categories that use the word (so 小区 and 楼上, used everywhere, count little)."""
    recent = Ticket.objects.order_by("-pk").values_list("category_id", "description")[:LEARN_FROM_TICKETS]
    documents: Counter[int] = Counter()
    usage: dict[int, Counter[str]] = defaultdict(Counter)
    for category_id, description in recent:
        documents[category_id] += 1
        usage[category_id].update(set(tokens(description)))
    categories_using: Counter[str] = Counter()
    for words in usage.values():
        categories_using.update(word for word, count in words.items() if count >= LEARN_MIN_TICKETS)
    learned: dict[int, dict[str, float]] = {}
    for category_id, words in usage.items():
        learned[category_id] = {
            word: count / documents[category_id] / categories_using[word]
            for word, count in words.most_common(LEARN_TOP_WORDS)
            if count >= LEARN_MIN_TICKETS
        }
    return learned


def learned_words() -> dict[int, dict[str, float]]:
    learned = cache.get(LEARNED_CACHE_KEY)
    if learned is None:
        learned = _learn()
        cache.set(LEARNED_CACHE_KEY, learned, LEARNED_CACHE_SECONDS)
    return learned


def category_score(category: Category, text: str, words: set[str], learned: dict[str, float]) -> float:
    """How well `category` fits a description (normalized `text`, its `words`); 0 when nothing fits."""
    score = 0.0
    for keyword in {normalize(k) for k in category.keywords.split()}:
        if keyword and keyword in text:
            # A longer keyword (暖气片) says more than a short one (水).
            score += KEYWORD_WEIGHT * min(len(keyword), 4) / 2
    score += NAME_WEIGHT * len(words & set(tokens(category.name)))
    score += LEARNED_WEIGHT * sum(learned.get(word, 0.0) for word in words)
    return score


def suggest_categories(text: str, kind: str = "", limit: int = 3) -> list[Category]:
    """The active categories (of `kind`, when given) that best fit `text`, best first, at most `limit`."""
    words = set(tokens(text))
    if not words:
        return []
    normalized = normalize(text)
    categories = Category.objects.filter(is_active=True)
    if kind:
        categories = categories.filter(kind=kind)
    learned = learned_words()
    scored = [
        (category_score(category, normalized, words, learned.get(category.pk, {})), category)
        for category in categories
    ]
    ranked = sorted(
        ((score, category) for score, category in scored if score > 0),
        key=lambda pair: (-pair[0], pair[1].order, pair[1].code),
    )
    return [category for _score, category in ranked[:limit]]


POPULAR_FROM_TICKETS = 2000  # the most recent tickets counted
POPULAR_CACHE_KEY = "tickets:suggest:popular:v1"


def popular_category_ids() -> list[int]:
    """Category ids by how often residents chose them lately, the most frequent first (cached)."""
    popular = cache.get(POPULAR_CACHE_KEY)
    if popular is None:
        recent = Ticket.objects.order_by("-pk").values_list("category_id", flat=True)[:POPULAR_FROM_TICKETS]
        popular = [category_id for category_id, _count in Counter(recent).most_common()]
        cache.set(POPULAR_CACHE_KEY, popular, LEARNED_CACHE_SECONDS)
    return list(popular)
