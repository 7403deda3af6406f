"""Household roster import (住户花名册): one row per person, households created once per door.

Three steps: `_check` reads every row and collects every error; `_plan` matches the rows with
what is stored (households by code, people by ID-number hash or by name within the household)
and decides what to create or change; `_write` does it with bulk statements in one
transaction and adjusts the roll-up counts once per touched node.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock, personal
from gongzhi.core.bulk import bulk_write_tuning, insert_rows, reserve_ids
from gongzhi.imports.formats import GENDERS, RELATIONS, ROSTER_COLUMNS, TAG_SEPARATORS, YES_NO
from gongzhi.imports.parsing import RowReader, chunked, common_path, denied_reason, headers_of, is_masked
from gongzhi.imports.results import Counts, ImportResult, Progress, RowError, Rows, no_progress
from gongzhi.people.models import Person, Relation, Residency, Tag
from gongzhi.people.services import pinyin_initials
from gongzhi.territory.models import Node, NodeKind, subtree_q
from gongzhi.territory.services import NewNode, NodeSpec, nodes_bulk_add_many, stats_adjust

HEADERS = headers_of(ROSTER_COLUMNS)
PARENT_KINDS = (NodeKind.BUILDING, NodeKind.ENTRANCE)
MAX_AREA = Decimal("10000")
ONE = Decimal("1")
SHARE_PLACES = Decimal("0.0001")
WRITE_BATCH = 2000
PERSON_FIELDS = ("name", "name_initials", "phone", "phone_last4", "gender", "birth_year")
PERSON_COLUMNS = (
    "id",
    "name",
    "name_initials",
    "phone",
    "phone_last4",
    "id_number_encrypted",
    "id_number_hash",
    "gender",
    "birth_year",
    "home_id",
)
RESIDENCY_COLUMNS = ("person_id", "household_id", "relation", "ownership_share")
TagThrough = Person.tags.through


@lru_cache(maxsize=65536)
def _initials(name: str) -> str:
    # Names repeat a lot in a roster (and pinyin lookup is the slowest step of a row).
    return pinyin_initials(name)


@dataclass(slots=True)
class PersonRow:
    row: int
    name: str
    relation: str
    phone: str | None  # None: empty or masked cell, keep what is stored
    id_number: str  # "" when empty or masked
    id_hash: str
    gender: str | None
    birth_year: int | None
    share: Decimal | None
    tag_ids: frozenset[int] | None  # None: empty cell, keep the stored tags
    existing: Person | None = None
    residency: Residency | None = None


@dataclass(slots=True)
class HouseholdRow:
    code: str
    parent: Node
    door: str
    first_row: int
    area: Decimal | None = None
    area_row: int = 0
    party: bool | None = None
    party_row: int = 0
    existing: Node | None = None
    people: list[PersonRow] = field(default_factory=list)


@dataclass
class Plan:
    households: list[HouseholdRow]
    new_households: list[HouseholdRow] = field(default_factory=list)
    changed_households: list[Node] = field(default_factory=list)
    new_people: list[tuple[HouseholdRow, PersonRow]] = field(default_factory=list)
    changed_people: list[Person] = field(default_factory=list)
    changed_person_fields: set[str] = field(default_factory=set)
    tag_changes: dict[int, frozenset[int]] = field(default_factory=dict)
    stored_tags: dict[int, frozenset[int]] = field(default_factory=dict)
    changed_residencies: list[Residency] = field(default_factory=list)
    new_residencies: list[Residency] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)


def roster_import(
    *,
    actor: Actor,
    rows: Rows,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> ImportResult:
    """Import a household roster, all or nothing. The caller checked Perm.IMPORT_DATA somewhere;
    each target building is checked here (outside scope → reported as an unknown code)."""
    row_list = list(rows)
    result = ImportResult(rows=len(row_list), dry_run=dry_run)
    households = _check(actor, row_list, result.errors, progress)
    if result.errors:
        return result
    plan = _plan(households, result.errors)
    result.counts = plan.counts
    if result.errors or dry_run:
        return result
    with bulk_write_tuning(), transaction.atomic():
        _write(actor, plan, len(row_list), progress)
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            node_path=common_path([h.parent.path for h in households]),
            target_type="imports.roster",
            target_repr=_("Household roster: %(rows)d rows") % {"rows": len(row_list)},
            changes=result.summary(),
        )
    return result


# --- step 1: read and check every row ---------------------------------------------------------


def _check(
    actor: Actor, rows: list[tuple[int, dict]], errors: list[RowError], progress: Progress
) -> list[HouseholdRow]:
    tags = _tag_lookup()
    this_year = clock.today().year
    parsed: list[tuple[RowReader, str, str, Decimal | None, bool | None, PersonRow | None]] = []
    total = len(rows)
    for index, (number, cells) in enumerate(rows, start=1):
        reader = RowReader(number, cells, HEADERS, errors)
        building_code = reader.text("building_code", required=True, max_length=64)
        door = reader.text("door_number", required=True, max_length=32)
        area_raw, area = reader.decimal("floor_area", places=2)
        if area is not None and not (0 < area <= MAX_AREA):
            reader.error(
                "floor_area",
                _("%(value)s m² is not a possible floor area (more than 0, at most 10000).")
                % {"value": area_raw},
            )
            area = None
        party = reader.choice("party_household", YES_NO)
        person = _read_person(reader, tags, this_year)
        parsed.append((reader, building_code, door, area, party, person))
        if index % 5000 == 0:
            progress("checking", index, total)
    parents = _parents(actor, {p[1] for p in parsed if p[1]})
    households: dict[tuple[int, str], HouseholdRow] = {}
    for reader, building_code, door, area, party, person in parsed:
        parent = parents.get(building_code)
        if isinstance(parent, str):
            if building_code:
                reader.error("building_code", parent)
            continue
        if parent is None or not door:
            continue
        household = households.get((parent.pk, door))
        if household is None:
            household = HouseholdRow(
                code=f"{parent.code}-{door}"[:64], parent=parent, door=door, first_row=reader.number
            )
            households[(parent.pk, door)] = household
        _merge_household(reader, household, area, party)
        if person is not None:
            household.people.append(person)
    _check_duplicates(list(households.values()), errors)
    progress("checking", total, total)
    return list(households.values())


PERSON_KEYS = ("name", "phone", "id_number", "gender", "birth_year", "relation", "share", "tags")


def _read_person(reader: RowReader, tags: dict[str, int], this_year: int) -> PersonRow | None:
    if not reader.filled(PERSON_KEYS):
        return None  # a household without people (an empty flat)
    name = reader.text("name", required=True, max_length=60)
    relation = reader.choice("relation", RELATIONS, required=True)
    phone_raw = reader.text("phone")
    phone = None
    if phone_raw and not is_masked(phone_raw):
        phone = reader.validated("phone", phone_raw, personal.validate_phone)
    id_raw = reader.text("id_number")
    id_number = ""
    if id_raw and not is_masked(id_raw):
        id_number = reader.validated("id_number", id_raw, personal.validate_id_number) or ""
    gender = reader.choice("gender", GENDERS)
    birth_year = reader.integer("birth_year", low=1880, high=this_year)
    if id_number:
        born = int(id_number[6:10])
        if birth_year is None:
            birth_year = born
        elif birth_year != born:
            reader.error(
                "birth_year", _("The birth year does not match the ID number (%(year)d).") % {"year": born}
            )
    share_raw, share = reader.decimal("share", places=4)
    if share is not None:
        if relation != Relation.OWNER:
            reader.error("share", _("Only an owner has a share of the floor area."))
            share = None
        elif not (0 < share <= ONE):
            reader.error("share", _("%(value)s is not a share between 0 and 1.") % {"value": share_raw})
            share = None
    tag_ids = _read_tags(reader, tags)
    if not name or relation is None:
        return None
    return PersonRow(
        row=reader.number,
        name=name,
        relation=relation,
        phone=phone,
        id_number=id_number,
        id_hash=personal.lookup_hash(id_number),
        gender=gender,
        birth_year=birth_year,
        share=share,
        tag_ids=tag_ids,
    )


def _read_tags(reader: RowReader, tags: dict[str, int]) -> frozenset[int] | None:
    raw = reader.text("tags")
    if not raw:
        return None
    ids = set()
    for name in (part.strip() for part in TAG_SEPARATORS.split(raw)):
        if not name:
            continue
        if name not in tags:
            reader.error("tags", _("Unknown tag: %(name)s.") % {"name": name})
            continue
        ids.add(tags[name])
    return frozenset(ids)


def _tag_lookup() -> dict[str, int]:
    lookup: dict[str, int] = {}
    for pk, code, name in Tag.objects.values_list("pk", "code", "name"):
        lookup[code] = pk
        lookup[name] = pk
    return lookup


def _parents(actor: Actor, codes: set[str]) -> dict[str, Node | str]:
    """Building/entrance nodes by code, or the reason to report for a code the actor cannot use."""
    found: dict[str, Node | str] = {}
    for batch in chunked(sorted(codes)):
        for node in Node.objects.filter(code__in=batch, kind__in=PARENT_KINDS):
            found[node.code] = node
    for code in codes:
        unknown = _("Unknown building or entrance code: %(code)s.") % {"code": code}
        node = found.get(code)
        if node is None:
            found[code] = unknown
        elif isinstance(node, Node):
            reason = denied_reason(actor, node.path, unknown)
            if reason:
                found[code] = reason
    return found


def _merge_household(
    reader: RowReader, household: HouseholdRow, area: Decimal | None, party: bool | None
) -> None:
    """Rows of one door must agree on the household's area and flag."""
    if area is not None:
        if household.area is None:
            household.area, household.area_row = area, reader.number
        elif household.area != area:
            reader.error(
                "floor_area",
                _(
                    "Door number %(door)s appears again with a different floor area (%(area)s m² on row %(row)d)."
                )
                % {"door": household.door, "area": household.area, "row": household.area_row},
            )
    if party is not None:
        if household.party is None:
            household.party, household.party_row = party, reader.number
        elif household.party != party:
            reader.error(
                "party_household",
                _(
                    "Door number %(door)s appears again with a different party-member household value (row %(row)d)."
                )
                % {"door": household.door, "row": household.party_row},
            )


def _check_duplicates(households: list[HouseholdRow], errors: list[RowError]) -> None:
    by_hash: dict[str, int] = {}
    for household in households:
        names: dict[str, int] = {}
        for person in household.people:
            if person.id_hash:
                first = by_hash.setdefault(person.id_hash, person.row)
                if first != person.row:
                    errors.append(
                        RowError(
                            person.row,
                            HEADERS["id_number"],
                            _("This ID number also appears on row %(row)d.") % {"row": first},
                        )
                    )
            else:
                first = names.setdefault(person.name, person.row)
                if first != person.row:
                    errors.append(
                        RowError(
                            person.row,
                            HEADERS["name"],
                            _("%(name)s appears twice in this household without an ID number (row %(row)d).")
                            % {"name": person.name, "row": first},
                        )
                    )


# --- step 2: match with what is stored, decide what changes ---------------------------------


def _plan(households: list[HouseholdRow], errors: list[RowError]) -> Plan:
    plan = Plan(households=households, counts={"households": Counts(), "people": Counts()})
    _match_households(plan, errors)
    existing_ids = [h.existing.pk for h in households if h.existing is not None]
    _match_people(plan, existing_ids, errors)
    if errors:
        return plan
    owners_elsewhere = _stored_owner_shares(plan, existing_ids)
    for household in households:
        _settle_shares(
            household,
            owners_elsewhere.get(household.existing.pk if household.existing else 0, Decimal(0)),
            errors,
        )
    if errors:
        return plan
    for household in households:
        for person in household.people:
            _plan_person(plan, household, person)
    return plan


def _households_by_door(plan: Plan) -> dict[tuple[int, str], Node]:
    """Existing households under the file's buildings and entrances, by (parent id, door number).

    A household is the same door of the same building whatever its code: data entered through
    other routes (the demo, the API, the admin) need not follow the `<parent code>-<door>` rule.
    """
    parents = {h.parent.pk: h.parent for h in plan.households}
    found: dict[tuple[int, str], Node] = {}
    # One indexed range per parent (an OR of many ranges makes SQLite scan the table), and
    # none for a parent without children yet: a first import of new buildings costs nothing.
    for parent in parents.values():
        if parent.numchild == 0:
            continue
        children = Node.objects.filter(
            subtree_q("path", parent.path), depth=parent.depth + 1, kind=NodeKind.HOUSEHOLD
        ).exclude(door_number="")
        for node in children:
            found[(parent.pk, node.door_number)] = node
    return found


def _match_households(plan: Plan, errors: list[RowError]) -> None:
    by_door = _households_by_door(plan)
    for household in plan.households:
        household.existing = by_door.get((household.parent.pk, household.door))
    by_code = {h.code: h for h in plan.households if h.existing is None}
    for batch in chunked(by_code):
        for node in Node.objects.filter(code__in=batch):
            household = by_code[node.code]
            is_child = (
                node.path.startswith(household.parent.path) and node.depth == household.parent.depth + 1
            )
            if node.kind != NodeKind.HOUSEHOLD or not is_child:
                errors.append(
                    RowError(
                        household.first_row,
                        HEADERS["door_number"],
                        _("The code %(code)s is already used by another node.") % {"code": node.code},
                    )
                )
            else:
                household.existing = node
    counts = plan.counts["households"]
    for household in plan.households:
        node = household.existing
        if node is None:
            plan.new_households.append(household)
            counts.created += 1
            continue
        changed = False
        if household.area is not None and node.floor_area != household.area:
            node.floor_area, changed = household.area, True
        if household.party is not None and node.is_party_member_household != household.party:
            node.is_party_member_household, changed = household.party, True
        if changed:
            plan.changed_households.append(node)
            counts.updated += 1
        else:
            counts.unchanged += 1


def _match_people(plan: Plan, existing_ids: list[int], errors: list[RowError]) -> None:
    """People are matched by ID-number hash anywhere, else by name within their household."""
    rows_by_hash = {p.id_hash: (h, p) for h in plan.households for p in h.people if p.id_hash}
    matched: set[int] = set()
    for batch in chunked(rows_by_hash):
        # The same condition as the partial unique index, or SQLite will not use the index.
        stored = Person.objects.filter(id_number_hash__in=batch).exclude(id_number_hash="").order_by()
        for person in stored:
            household, row = rows_by_hash[person.id_number_hash]
            if (
                household.existing is None
                or person.home_id != household.existing.pk
                or person.name != row.name
            ):
                errors.append(
                    RowError(
                        row.row,
                        HEADERS["id_number"],
                        _("This ID number is already registered to another person."),
                    )
                )
                continue
            row.existing = person
            matched.add(person.pk)
    by_name: dict[tuple[int, str], list[Person]] = defaultdict(list)
    for ids in chunked(existing_ids):
        for person in Person.objects.filter(home_id__in=ids).order_by("pk"):
            if person.pk not in matched:
                by_name[(person.home_id, person.name)].append(person)
    for household in plan.households:
        if household.existing is None:
            continue
        for row in household.people:
            if row.existing is not None:
                continue
            candidates = by_name.get((household.existing.pk, row.name), [])
            for candidate in candidates:
                # A stored person with another ID number is someone else of the same name.
                if not row.id_hash or not candidate.id_number_hash:
                    row.existing = candidate
                    candidates.remove(candidate)
                    break
    people = [p.existing for h in plan.households for p in h.people if p.existing is not None]
    tags_of: dict[int, set[int]] = defaultdict(set)
    residency_of: dict[tuple[int, int], Residency] = {}
    for ids in chunked([p.pk for p in people]):
        for person_id, tag_id in TagThrough.objects.filter(person_id__in=ids).values_list(
            "person_id", "tag_id"
        ):
            tags_of[person_id].add(tag_id)
        for residency in Residency.objects.filter(person_id__in=ids):
            residency_of[(residency.person_id, residency.household_id)] = residency
    plan.stored_tags = {person_id: frozenset(tags) for person_id, tags in tags_of.items()}
    for household in plan.households:
        for row in household.people:
            if row.existing is not None and household.existing is not None:
                row.residency = residency_of.get((row.existing.pk, household.existing.pk))


def _stored_owner_shares(plan: Plan, existing_ids: list[int]) -> dict[int, Decimal]:
    """Shares held by stored owners who are not in the file (they keep their share)."""
    in_file = {p.existing.pk for h in plan.households for p in h.people if p.existing is not None}
    shares: dict[int, Decimal] = defaultdict(Decimal)
    for batch in chunked(existing_ids):
        for residency in Residency.objects.filter(household_id__in=batch, relation=Relation.OWNER):
            if residency.person_id not in in_file:
                shares[residency.household_id] += residency.ownership_share or Decimal(0)
    return shares


def _settle_shares(household: HouseholdRow, taken: Decimal, errors: list[RowError]) -> None:
    """Fill empty owner shares (keep a stored one, else split what is left equally) and check
    that the owners of the household hold at most the whole floor area."""
    owners = [p for p in household.people if p.relation == Relation.OWNER]
    if not owners:
        return
    blank = []
    total = taken
    for owner in owners:
        if owner.share is None and owner.residency is not None and owner.residency.relation == Relation.OWNER:
            owner.share = owner.residency.ownership_share
        if owner.share is None:
            blank.append(owner)
        else:
            total += owner.share
    if blank:
        each = ((ONE - total) / len(blank)).quantize(SHARE_PLACES, rounding="ROUND_DOWN")
        if each > 0:
            for owner in blank:
                owner.share = each
                total += each
        else:
            total += ONE  # no room left: reported below
    if total > ONE:
        errors.append(
            RowError(
                owners[-1].row,
                HEADERS["share"],
                _("The owners' shares of door number %(door)s add up to more than 1.")
                % {"door": household.door},
            )
        )


def _plan_person(plan: Plan, household: HouseholdRow, row: PersonRow) -> None:
    counts = plan.counts["people"]
    person = row.existing
    if person is None:
        plan.new_people.append((household, row))
        counts.created += 1
        return
    changed = False
    values = {"gender": row.gender, "birth_year": row.birth_year, "phone": row.phone}
    for key, value in values.items():
        if value is not None and getattr(person, key) != value:
            setattr(person, key, value)
            plan.changed_person_fields.add(key)
            changed = True
    if row.phone is not None and person.phone_last4 != row.phone[-4:]:
        person.phone_last4 = row.phone[-4:]
        plan.changed_person_fields.add("phone_last4")
    if row.id_number and not person.id_number_hash:
        person.id_number_encrypted = personal.encrypt(row.id_number)
        person.id_number_hash = row.id_hash
        plan.changed_person_fields.update({"id_number_encrypted", "id_number_hash"})
        changed = True
    if changed:
        plan.changed_people.append(person)
    if row.tag_ids is not None and row.tag_ids != plan.stored_tags.get(person.pk, frozenset()):
        plan.tag_changes[person.pk] = row.tag_ids
        changed = True
    share = row.share if row.relation == Relation.OWNER else None
    residency = row.residency
    assert household.existing is not None
    if residency is None:
        plan.new_residencies.append(
            Residency(
                person=person, household=household.existing, relation=row.relation, ownership_share=share
            )
        )
        changed = True
    elif residency.relation != row.relation or residency.ownership_share != share:
        residency.relation, residency.ownership_share = row.relation, share
        plan.changed_residencies.append(residency)
        changed = True
    if changed:
        counts.updated += 1
    else:
        counts.unchanged += 1


# --- step 3: write ----------------------------------------------------------------------------


def _write(actor: Actor, plan: Plan, total: int, progress: Progress) -> None:
    """Run inside one transaction. Counts follow: households via nodes_bulk_add_many, residents here."""
    progress("writing", 0, total)
    created_nodes = _create_households(plan)
    progress("writing", min(total, len(plan.new_households)), total)
    if plan.changed_households:
        Node.objects.bulk_update(
            plan.changed_households, ["floor_area", "is_party_member_household"], batch_size=WRITE_BATCH
        )
    now = clock.now()
    residents: Counter[str] = Counter()
    residencies: list[tuple[Any, ...]] = [
        (r.person_id, r.household_id, r.relation, r.ownership_share) for r in plan.new_residencies
    ]
    tag_rows: list[tuple[int, int]] = []
    # The new people's keys, reserved up front: the residencies and tags that point at them
    # need no read-back after the insert.
    person_ids = reserve_ids(Person, len(plan.new_people))
    owner = Relation.OWNER
    for start in range(0, len(plan.new_people), WRITE_BATCH):
        batch = [
            (person_id, household.existing or created_nodes[household.code], row)
            for person_id, (household, row) in zip(
                person_ids[start : start + WRITE_BATCH],
                plan.new_people[start : start + WRITE_BATCH],
                strict=True,
            )
        ]
        _insert_people(batch, now)
        for person_id, home, row in batch:
            residents[home.path] += 1
            residencies.append(
                (person_id, home.pk, row.relation, row.share if row.relation == owner else None)
            )
            if row.tag_ids:
                tag_rows.extend((person_id, tag) for tag in row.tag_ids)
        progress("writing", min(total, len(plan.new_households) + start + len(batch)), total)
    insert_rows(Residency, RESIDENCY_COLUMNS, residencies, now=now)
    if plan.changed_people:
        Person.objects.bulk_update(
            plan.changed_people, sorted(plan.changed_person_fields), batch_size=WRITE_BATCH
        )
    if plan.changed_residencies:
        Residency.objects.bulk_update(
            plan.changed_residencies, ["relation", "ownership_share"], batch_size=WRITE_BATCH
        )
    if plan.tag_changes:
        for ids_batch in chunked(list(plan.tag_changes)):
            TagThrough.objects.filter(person_id__in=ids_batch).delete()
        tag_rows.extend((person_id, tag) for person_id, tags in plan.tag_changes.items() for tag in tags)
    insert_rows(TagThrough, ("person_id", "tag_id"), tag_rows, now=now)
    _count_residents(residents)
    progress("writing", total, total)


def _insert_people(batch: list[tuple[int, Node | NewNode, PersonRow]], now: dt.datetime) -> None:
    """Insert people with the keys reserved for them."""
    encrypt, initials = personal.encrypt, _initials
    rows = []
    for person_id, home, row in batch:
        phone = row.phone or ""
        rows.append(
            (
                person_id,
                row.name,
                initials(row.name),
                phone,
                phone[-4:],
                encrypt(row.id_number),
                row.id_hash,
                row.gender or "",
                row.birth_year,
                home.pk,
            )
        )
    insert_rows(Person, PERSON_COLUMNS, rows, now=now)


def _create_households(plan: Plan) -> dict[str, NewNode]:
    by_parent: dict[int, list[HouseholdRow]] = defaultdict(list)
    for household in plan.new_households:
        by_parent[household.parent.pk].append(household)
    groups = [
        (
            rows[0].parent,
            [
                NodeSpec(
                    NodeKind.HOUSEHOLD,
                    row.code,
                    row.door,
                    {
                        "door_number": row.door,
                        "floor_area": row.area,
                        "is_party_member_household": bool(row.party),
                    },
                )
                for row in rows
            ],
        )
        for rows in by_parent.values()
    ]
    created: dict[str, NewNode] = {}
    for start in range(0, len(groups), 1000):
        for node in nodes_bulk_add_many(groups[start : start + 1000]):
            created[node.code] = node
    return created


def _count_residents(residents: Counter[str]) -> None:
    """Add new residents to each household and every ancestor: one UPDATE per (delta, batch)."""
    totals: Counter[str] = Counter()
    step = Node.steplen
    for path, count in residents.items():
        for end in range(step, len(path) + 1, step):
            totals[path[:end]] += count
    by_delta: dict[int, list[str]] = defaultdict(list)
    for path, count in totals.items():
        by_delta[count].append(path)
    for delta, paths in by_delta.items():
        for batch in chunked(paths):
            stats_adjust(batch, residents=delta)
