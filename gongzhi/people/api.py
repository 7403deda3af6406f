"""GET /api/v1/people, /people/{id} (masked) and POST /people/{id}/reveal (audited)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from gongzhi.accounts.permissions import Perm
from gongzhi.core import personal
from gongzhi.core.api_auth import actor_of
from gongzhi.core.api_schemas import SCOPED_ERRORS, ErrorOut, PageParams, paginate
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.ratelimit import client_ip
from gongzhi.people.models import Gender, PartyMember, Person, Relation
from gongzhi.people.selectors import person_get, person_search
from gongzhi.people.services import person_find_by_id_number, person_reveal
from gongzhi.territory.models import Node, NodeKind
from gongzhi.territory.selectors import node_get

router = Router(tags=["people"])

# The kinds that make up a postal address below the grid: 春都华府 1号楼 2单元 101.
_ADDRESS_KINDS = frozenset({NodeKind.COMPOUND, NodeKind.BUILDING, NodeKind.ENTRANCE, NodeKind.HOUSEHOLD})


class PeopleFilter(PageParams):
    q: str = Field("", max_length=60, description="Name, pinyin initials, door number or phone.")
    node: int | None = Field(None, description="Only people living under this node.")


class TagOut(Schema):
    code: str
    name: str


class PersonOut(Schema):
    """A person as every list shows them: phone and ID number masked, never whole."""

    id: int
    name: str
    gender: str
    birth_year: int | None
    phone: str = Field(description="Masked, e.g. 138****1234.")
    id_number: str = Field(description="Masked; never the whole number.")
    home_id: int
    address: str
    tags: list[TagOut]


class PersonPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[PersonOut]


class ResidencyOut(Schema):
    household_id: int
    relation: Relation
    relation_label: str
    ownership_share: Decimal | None


class PartyMembershipOut(Schema):
    organization_id: int
    organization_name: str
    joined_year: int | None
    is_in_service: bool


class PersonDetailOut(PersonOut):
    gender_label: str
    residencies: list[ResidencyOut]
    party_membership: PartyMembershipOut | None


class RevealIn(Schema):
    field: Literal["phone", "id_number"]
    reason: str = Field("", max_length=500, description="Why the whole value is needed (audited).")


class RevealOut(Schema):
    value: str


class LookupIn(Schema):
    id_number: str = Field(max_length=24, description="A whole ID number (18 characters).")


def _addresses(homes: Iterable[Node]) -> dict[int, str]:
    """Address text per home node id, from the names of its compound, building, entrance
    and household: one query for a whole page."""
    homes = list(homes)
    paths = {path for home in homes for path in home.ancestor_paths[:-1]}
    names = dict(Node.objects.filter(path__in=paths, kind__in=_ADDRESS_KINDS).values_list("path", "name"))
    result = {}
    for home in homes:
        parts = [names[path] for path in home.ancestor_paths[:-1] if path in names]
        result[home.pk] = " ".join([*parts, home.name])
    return result


def person_out(person: Person, *, address: str) -> dict[str, Any]:
    return {
        "id": person.pk,
        "name": person.name,
        "gender": person.gender,
        "birth_year": person.birth_year,
        "phone": person.masked_phone,
        "id_number": person.masked_id_number,
        "home_id": person.home_id,
        "address": address,
        "tags": [{"code": tag.code, "name": tag.name} for tag in person.tags.all()],
    }


def _party_membership(person: Person) -> dict[str, Any] | None:
    try:
        membership = person.party_membership
    except PartyMember.DoesNotExist:
        return None
    return {
        "organization_id": membership.organization_id,
        "organization_name": membership.organization.name,
        "joined_year": membership.joined_year,
        "is_in_service": membership.is_in_service,
    }


@router.get("/people", response={200: PersonPageOut, 403: ErrorOut, **SCOPED_ERRORS}, summary="Search people")
def people_list(request: HttpRequest, filters: Query[PeopleFilter]) -> dict[str, Any]:
    """People living in the caller's scope, masked, by name, pinyin initials (zxy), door
    number or phone (last 4 digits, whole, or masked as shown: 138****1234). A whole ID number
    matches nothing here (it would sit in URLs and access logs): use `POST /people/lookup`."""
    actor = actor_of(request)
    actor.ensure_has_perm(Perm.VIEW_PEOPLE)
    node_path = node_get(actor=actor, node_id=filters.node).path if filters.node is not None else ""
    page = paginate(person_search(actor=actor, query=filters.q, node_path=node_path), filters)
    addresses = _addresses(person.home for person in page.items)
    return {
        "count": page.count,
        "limit": page.limit,
        "offset": page.offset,
        "items": [person_out(person, address=addresses[person.home_id]) for person in page.items],
    }


# Before /people/{person_id}: a path matches the first route registered for it.
@router.post(
    "/people/lookup",
    response={200: PersonOut, 403: ErrorOut, 422: ErrorOut, **SCOPED_ERRORS},
    summary="Find a person by a whole ID number (audited)",
)
def people_lookup(request: HttpRequest, payload: LookupIn) -> dict[str, Any]:
    """The person with this ID number, among those the caller may reveal (404: nobody there).
    Found through the keyed hash; who looked up whom and when is written to the audit log, found
    or not. A POST, so the number stays out of URLs and access logs. Callers who may reveal
    nowhere get 403; a malformed number or wrong check digit 422."""
    actor = actor_of(request)
    actor.ensure_has_perm(Perm.REVEAL_PERSONAL_DATA)
    try:
        id_number = personal.validate_id_number(payload.id_number)
    except ValidationError as error:
        raise ValidationFailed(" ".join(error.messages), code="invalid_id_number") from error
    person = person_find_by_id_number(actor=actor, id_number=id_number, ip_address=client_ip(request)).first()
    if person is None:
        raise NotFound()
    return person_out(person, address=_addresses([person.home])[person.home_id])


@router.get("/people/{person_id}", response={200: PersonDetailOut, **SCOPED_ERRORS}, summary="A person")
def people_detail(request: HttpRequest, person_id: int) -> dict[str, Any]:
    person = person_get(actor=actor_of(request), person_id=person_id)
    return {
        **person_out(person, address=_addresses([person.home])[person.home_id]),
        "gender_label": str(Gender(person.gender).label),
        "residencies": [
            {
                "household_id": residency.household_id,
                "relation": residency.relation,
                "relation_label": str(Relation(residency.relation).label),
                "ownership_share": residency.ownership_share,
            }
            for residency in person.residencies.all()
        ],
        "party_membership": _party_membership(person),
    }


@router.post(
    "/people/{person_id}/reveal",
    response={200: RevealOut, 403: ErrorOut, 422: ErrorOut, **SCOPED_ERRORS},
    summary="Reveal a phone or ID number (audited)",
)
def people_reveal(request: HttpRequest, person_id: int, payload: RevealIn) -> dict[str, str]:
    """The whole value of one field, for roles that need it. Who, whose, when and the reason
    are written to the audit log. Session callers send the CSRF token (X-CSRFToken)."""
    value = person_reveal(
        actor=actor_of(request),
        person_id=person_id,
        field=payload.field,
        reason=payload.reason,
        ip_address=client_ip(request),
    )
    return {"value": value}
