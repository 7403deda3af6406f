"""Reads about people, scoped to the actor. Results carry masked values only."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core.errors import NotFound
from gongzhi.people.models import Person
from gongzhi.territory.models import subtree_q

_DIGITS = re.compile(r"^\d{3,11}$")
_MASKED_PHONE = re.compile(r"^(\d{3})\*+(\d{4})$")
_INITIALS = re.compile(r"^[a-zA-Z]{1,10}$")


def _people_for(actor: Actor, node_path: str = "") -> QuerySet[Person]:
    # A node's (narrow) range goes before the scope's (wide) one: SQLite walks the path
    # index by the first range it meets.
    people = Person.objects.filter(subtree_q("home__path", node_path)) if node_path else Person.objects.all()
    return people.filter(scope_q(actor, "home__path", Perm.VIEW_PEOPLE))


def person_search(*, actor: Actor, query: str = "", node_path: str = "") -> QuerySet[Person]:
    """Search people in scope by name, pinyin initials (zxy), door number, or phone:
    the last 4 digits, a whole number, or a masked one as shown on screen (138****1234)."""
    people = _people_for(actor, node_path).select_related("home").prefetch_related("tags")
    query = (query or "").strip()
    if not query:
        return people.order_by("name", "pk")
    condition = Q(name__contains=query) | Q(home__door_number=query)
    if _INITIALS.match(query):
        condition |= Q(name_initials__startswith=query.lower())
    masked = _MASKED_PHONE.match(query)
    if masked:
        condition |= Q(phone__startswith=masked.group(1), phone_last4=masked.group(2))
    elif _DIGITS.match(query):
        condition |= Q(phone_last4=query) if len(query) == 4 else Q(phone=query)
    return people.filter(condition).order_by("name", "pk")


def person_get(*, actor: Actor, person_id: int) -> Person:
    person = (
        _people_for(actor)
        .select_related("home", "party_membership__organization")
        .prefetch_related("tags", "residencies__household")
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise NotFound()
    return person


def residents_by_phone(*, node_path: str, phone: str) -> list[Person]:
    """The people living inside `node_path` registered with `phone`, for a resident who verified the
    phone (no actor: the phone is the proof). Usually one; more when family members share a phone."""
    if not phone:
        return []
    return list(
        Person.objects.filter(subtree_q("home__path", node_path), phone=phone)
        .select_related("home")
        .order_by("pk")
    )
