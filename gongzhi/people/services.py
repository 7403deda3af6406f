"""Writes about people: residents, their households, party membership, reveals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import personal
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.people.models import PartyMember, Person, Relation, Residency, Tag
from gongzhi.people.selectors import people_with_id_number
from gongzhi.territory.models import Node, NodeKind, Organization, OrganizationKind
from gongzhi.territory.services import stats_adjust

REVEALABLE_FIELDS = ("phone", "id_number")


def pinyin_initials(name: str) -> str:
    """张秀英 -> zxy. Used for search by initials, as staff type on a phone keyboard."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()[:60]


def _field_error(exc: ValidationError) -> ValidationFailed:
    return ValidationFailed("; ".join(exc.messages), code="invalid_person")


@dataclass
class PersonData:
    """What a person row carries, already parsed (validated by `person_prepare`)."""

    name: str
    phone: str = ""
    id_number: str = ""
    gender: str = ""
    birth_year: int | None = None
    tags: tuple[str, ...] = ()


def person_prepare(data: PersonData) -> dict[str, Any]:
    """Validate and turn input into column values; raises Django's ValidationError per field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"name": data.name.strip(), "gender": data.gender, "birth_year": data.birth_year}
    if not values["name"]:
        errors["name"] = [_("A name is required.")]
    values["name_initials"] = pinyin_initials(values["name"])
    phone = ""
    if data.phone:
        try:
            phone = personal.validate_phone(data.phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    values["phone"] = phone
    values["phone_last4"] = phone[-4:] if phone else ""
    id_number = ""
    if data.id_number:
        try:
            id_number = personal.validate_id_number(data.id_number)
        except ValidationError as exc:
            errors["id_number"] = exc.messages
    values["id_number_encrypted"] = personal.encrypt(id_number)
    values["id_number_hash"] = personal.lookup_hash(id_number)
    if errors:
        raise ValidationError(errors)
    return values


def _home_paths(home: Node) -> list[str]:
    return home.ancestor_paths


@transaction.atomic
def person_create(
    *,
    actor: Actor,
    home_id: int,
    data: PersonData,
    relation: str = Relation.FAMILY,
    ownership_share: Decimal | None = None,
) -> Person:
    home = Node.objects.visible_to(actor).filter(pk=home_id).first()
    if home is None:
        raise NotFound()
    actor.ensure_can(Perm.EDIT_PEOPLE, home.path)
    try:
        values = person_prepare(data)
    except ValidationError as exc:
        raise _field_error(exc) from exc
    # The exclude lets SQLite use the partial unique index (hash <> ''); without it, a full scan.
    duplicate = Person.objects.filter(id_number_hash=values["id_number_hash"]).exclude(id_number_hash="")
    if values["id_number_hash"] and duplicate.exists():
        raise ValidationFailed(
            _("A person with this ID number is already registered."), code="duplicate_id_number"
        )
    person = Person.objects.create(home=home, **values)
    if data.tags:
        person.tags.set(Tag.objects.filter(code__in=data.tags))
    if home.kind == NodeKind.HOUSEHOLD:
        residency_add(person=person, household=home, relation=relation, ownership_share=ownership_share)
    stats_adjust(_home_paths(home), residents=1)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=person,
        node_path=home.path,
        changes={"name": person.name, "home": home.pk},
    )
    return person


def residency_add(
    *, person: Person, household: Node, relation: str, ownership_share: Decimal | None
) -> Residency:
    """Tie a person to a household. Owners' shares of one household may not exceed 1."""
    if relation != Relation.OWNER and ownership_share is not None:
        raise ValidationFailed(_("Only an owner has a share of the floor area."), code="share_not_owner")
    if relation == Relation.OWNER:
        ownership_share = ownership_share if ownership_share is not None else Decimal("1")
        taken = sum(
            (r.ownership_share or Decimal(0)) for r in household.residencies.filter(relation=Relation.OWNER)
        )
        if taken + ownership_share > Decimal("1"):
            raise ValidationFailed(
                _("The owners' shares of a household cannot add up to more than 1."), code="share_over_one"
            )
    return Residency.objects.create(
        person=person, household=household, relation=relation, ownership_share=ownership_share
    )


@transaction.atomic
def person_update(*, actor: Actor, person_id: int, data: PersonData) -> Person:
    person = _person_for_write(actor, person_id)
    try:
        values = person_prepare(data)
    except ValidationError as exc:
        raise _field_error(exc) from exc
    if not data.id_number:  # an empty field keeps the stored (never displayed) number
        values.pop("id_number_encrypted")
        values.pop("id_number_hash")
    changed = [key for key, value in values.items() if getattr(person, key) != value]
    for key in changed:
        setattr(person, key, values[key])
    person.save()
    person.tags.set(Tag.objects.filter(code__in=data.tags))
    # Personal values never enter the audit log, only the names of the fields that changed.
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=person,
        node_path=person.home.path,
        changes={"fields": sorted(set(changed) - {"name_initials", "phone_last4", "id_number_hash"})},
    )
    return person


def _person_for_write(actor: Actor, person_id: int) -> Person:
    person = (
        Person.objects.visible_to(actor)
        .select_for_update()
        .select_related("home")
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise NotFound()
    actor.ensure_can(Perm.EDIT_PEOPLE, person.home.path)
    return person


@transaction.atomic
def person_reveal(
    *, actor: Actor, person_id: int, field: str, reason: str, ip_address: str | None = None
) -> str:
    """Return one unmasked value (phone or ID number) and write who, whose, when and why."""
    person = Person.objects.visible_to(actor).select_related("home").filter(pk=person_id).first()
    if person is None:
        raise NotFound()
    actor.ensure_can(Perm.REVEAL_PERSONAL_DATA, person.home.path)
    if field not in REVEALABLE_FIELDS:
        raise ValidationFailed(_("This field cannot be revealed."), code="bad_field")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed(_("Give a reason for revealing personal data."), code="reason_required")
    value = person.phone if field == "phone" else personal.decrypt(person.id_number_encrypted)
    audit_record(
        actor=actor,
        action=AuditAction.REVEAL,
        target=person,
        node_path=person.home.path,
        field=field,
        reason=reason[:500],
        ip_address=ip_address,
    )
    return value


@transaction.atomic
def person_find_by_id_number(
    *, actor: Actor, id_number: str, node_path: str = "", ip_address: str | None = None
) -> QuerySet[Person]:
    """Find a person by a whole ID number, through its keyed hash, among the people the actor
    may reveal; write the look-up to the audit log (who, whom, when: never the number), found
    or not. Actors who may reveal nowhere are refused (PermissionDenied)."""
    actor.ensure_has_perm(Perm.REVEAL_PERSONAL_DATA)
    people = people_with_id_number(actor=actor, id_number=id_number, node_path=node_path)
    found = people.first()
    scope = actor.paths_for(Perm.REVEAL_PERSONAL_DATA)
    audit_record(
        actor=actor,
        action=AuditAction.LOOKUP,
        target=found,
        target_type="people.person",
        # Not found: the actor's own area, so that its auditors see the attempt too.
        node_path=found.home.path if found else (scope[0] if scope else ""),
        field="id_number",
        changes={"found": found is not None},
        ip_address=ip_address,
    )
    return people


@transaction.atomic
def party_membership_set(
    *,
    actor: Actor,
    person_id: int,
    organization_id: int,
    employer_id: int | None = None,
    joined_year: int | None = None,
) -> PartyMember:
    person = _person_for_write(actor, person_id)
    organization = Organization.objects.filter(pk=organization_id, kind=OrganizationKind.PARTY).first()
    if organization is None:
        raise ValidationFailed(_("Choose a party organization."), code="bad_organization")
    membership, created = PartyMember.objects.update_or_create(
        person=person,
        defaults={"organization": organization, "employer_id": employer_id, "joined_year": joined_year},
    )
    if created:
        stats_adjust(_home_paths(person.home), party_members=1)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        target=membership,
        node_path=person.home.path,
        target_repr=person.name,
        changes={"organization": organization.pk, "employer": employer_id},
    )
    return membership


def tags_by_code(codes: Iterable[str]) -> list[Tag]:
    return list(Tag.objects.filter(code__in=list(codes)))
