"""Reads about people, scoped to the actor. Results carry masked values only."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core import personal
from gongzhi.core.errors import NotFound
from gongzhi.people.models import Person
from gongzhi.territory.models import Node, NodeKind, subtree_q

_DIGITS = re.compile(r"^\d{3,11}$")
_MASKED_PHONE = re.compile(r"^(\d{3})\*+(\d{4})$")
_INITIALS = re.compile(r"^[a-zA-Z]{1,10}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


def looks_like_id_number(query: str) -> bool:
    """A whole resident ID number (18 characters): searched by its keyed hash, never by text."""
    return bool(_ID_NUMBER.match(personal.normalize_id_number(query)))


def _people_for(actor: Actor, node_path: str = "", perm: Perm = Perm.VIEW_PEOPLE) -> QuerySet[Person]:
    # A node's (narrow) range goes before the scope's (wide) one: SQLite walks the path
    # index by the first range it meets.
    people = Person.objects.filter(subtree_q("home__path", node_path)) if node_path else Person.objects.all()
    return people.filter(scope_q(actor, "home__path", perm))


def people_with_id_number(*, actor: Actor, id_number: str, node_path: str = "") -> QuerySet[Person]:
    """The person (at most one) with this ID number, among those the actor may reveal.

    Only for `person_find_by_id_number`, which audits the look-up: finding someone by a whole
    ID number discloses as much as revealing it."""
    digest = personal.lookup_hash(personal.normalize_id_number(id_number))
    # The exclude lets SQLite use the partial unique index (hash <> '').
    people = _people_for(actor, node_path, Perm.REVEAL_PERSONAL_DATA).exclude(id_number_hash="")
    return people.filter(id_number_hash=digest).select_related("home").prefetch_related("tags")


def person_search(*, actor: Actor, query: str = "", node_path: str = "") -> QuerySet[Person]:
    """Search people in scope by name, pinyin initials (zxy), door number, or phone:
    the last 4 digits, a whole number, or a masked one as shown on screen (138****1234).
    A whole ID number matches nothing here: see `person_find_by_id_number`."""
    people = _people_for(actor, node_path).select_related("home").prefetch_related("tags")
    query = (query or "").strip()
    if not query:
        return people.order_by("name", "pk")
    if looks_like_id_number(query):
        return people.none()
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


def household_search(*, actor: Actor, query: str, node_path: str = "") -> QuerySet[Node]:
    """Households in the actor's people scope whose door number (or name) is `query`: a door
    is found even when nobody is registered behind it yet."""
    query = (query or "").strip()
    if not query:
        return Node.objects.none()
    # The node's (narrow) range first, as in `_people_for`.
    households = Node.objects.filter(subtree_q("path", node_path)) if node_path else Node.objects.all()
    return (
        households.filter(kind=NodeKind.HOUSEHOLD)
        .filter(Q(door_number=query) | Q(name=query))
        .filter(scope_q(actor, "path", Perm.VIEW_PEOPLE))
        .select_related("stats")
        .order_by("path")
    )


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
