"""The demo district as a plan: every node, person and party member, decided before any write.

Planning is pure and deterministic (one `random.Random` with a fixed seed, consumed in a fixed
order), so the same scale always gives the same codes, names, door numbers and ID numbers, and
tests can check the full-size figures without touching the database.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gongzhi.core import personal
from gongzhi.core.demo import data
from gongzhi.people.models import Gender, Relation

SIX_PLACES = Decimal("0.000001")
MALE, FEMALE = Gender.MALE.value, Gender.FEMALE.value
OWNER, TENANT, FAMILY = Relation.OWNER.value, Relation.TENANT.value, Relation.FAMILY.value


@dataclass
class PartyPlan:
    joined_year: int
    employer: str | None  # code of a co-building unit for in-service members (双报到)


@dataclass
class PersonPlan:
    name: str
    gender: str
    birth_year: int
    relation: str
    ownership_share: Decimal | None = None
    id_number: str = ""
    phone: str = ""
    tags: tuple[str, ...] = ()
    party: PartyPlan | None = None

    def age(self) -> int:
        return data.REFERENCE_YEAR - self.birth_year


@dataclass
class HouseholdPlan:
    code: str
    door_number: str
    floor_area: Decimal
    people: list[PersonPlan] = field(default_factory=list)
    is_party_member_household: bool = False


@dataclass
class EntrancePlan:
    code: str
    name: str
    households: list[HouseholdPlan] = field(default_factory=list)


@dataclass
class BuildingPlan:
    code: str
    name: str
    floors: int
    latitude: Decimal
    longitude: Decimal
    entrances: list[EntrancePlan] = field(default_factory=list)
    leader: PersonPlan | None = None  # the building leader (楼栋长), a resident of the building

    def households(self) -> Iterator[HouseholdPlan]:
        for entrance in self.entrances:
            yield from entrance.households


@dataclass
class CompoundPlan:
    """A compound (小区); `loose` groups buildings that hang directly under the grid."""

    code: str
    name: str
    loose: bool
    year_built: int | None
    heating: str
    property_manager: str | None
    latitude: Decimal
    longitude: Decimal
    buildings: list[BuildingPlan] = field(default_factory=list)

    @property
    def has_branch(self) -> bool:
        """Larger compounds have their own party branch (小区党支部)."""
        return not self.loose and len(self.buildings) >= data.COMPOUND_BRANCH_MIN_BUILDINGS


@dataclass
class AreaPlan:
    """A district, subdistrict, community or grid: a box with a point and a GeoJSON boundary."""

    code: str
    name: str
    latitude: Decimal
    longitude: Decimal
    boundary: dict[str, Any]


@dataclass
class GridPlan(AreaPlan):
    compounds: list[CompoundPlan] = field(default_factory=list)


@dataclass
class CommunityPlan(AreaPlan):
    grids: list[GridPlan] = field(default_factory=list)


@dataclass
class SubdistrictPlan(AreaPlan):
    communities: list[CommunityPlan] = field(default_factory=list)


@dataclass(frozen=True)
class PlanCounts:
    subdistricts: int
    communities: int
    grids: int
    compounds: int
    buildings: int
    entrances: int
    households: int
    residents: int
    adults: int
    aged_60_plus: int
    party_members: int
    in_service_party_members: int
    party_member_households: int
    building_leaders: int


@dataclass
class DistrictPlan(AreaPlan):
    scale: float = 1.0
    subdistricts: list[SubdistrictPlan] = field(default_factory=list)

    def communities(self) -> Iterator[CommunityPlan]:
        for subdistrict in self.subdistricts:
            yield from subdistrict.communities

    def grids(self) -> Iterator[GridPlan]:
        for community in self.communities():
            yield from community.grids

    def compounds(self) -> Iterator[CompoundPlan]:
        for grid in self.grids():
            yield from grid.compounds

    def buildings(self) -> Iterator[BuildingPlan]:
        for compound in self.compounds():
            yield from compound.buildings

    def households(self) -> Iterator[HouseholdPlan]:
        for building in self.buildings():
            yield from building.households()

    def people(self) -> Iterator[PersonPlan]:
        for household in self.households():
            yield from household.people

    def counts(self) -> PlanCounts:
        people = list(self.people())
        members = [person for person in people if person.party]
        return PlanCounts(
            subdistricts=len(self.subdistricts),
            communities=sum(1 for _ in self.communities()),
            grids=sum(1 for _ in self.grids()),
            compounds=sum(1 for compound in self.compounds() if not compound.loose),
            buildings=sum(1 for _ in self.buildings()),
            entrances=sum(len(building.entrances) for building in self.buildings()),
            households=sum(1 for _ in self.households()),
            residents=len(people),
            adults=sum(1 for person in people if person.age() >= 18),
            aged_60_plus=sum(1 for person in people if person.age() >= 60),
            party_members=len(members),
            in_service_party_members=sum(1 for person in members if person.party and person.party.employer),
            party_member_households=sum(1 for h in self.households() if h.is_party_member_household),
            building_leaders=sum(1 for building in self.buildings() if building.leader),
        )

    # The places the demo accounts work in (see accounts.py).
    @property
    def key_subdistrict(self) -> SubdistrictPlan:
        return self.subdistricts[0]  # 鼓楼街道

    @property
    def key_community(self) -> CommunityPlan:
        return self.subdistricts[0].communities[0]  # 奎星楼社区

    @property
    def key_grid(self) -> GridPlan:
        return self.key_community.grids[0]

    @property
    def key_building(self) -> BuildingPlan:
        return self.key_grid.compounds[0].buildings[0]

    @property
    def key_resident(self) -> tuple[HouseholdPlan, PersonPlan]:
        """A resident of the key building who is not its building leader (an owner if possible)."""
        for household in self.key_building.households():
            for person in sorted(household.people, key=lambda p: p.relation != OWNER):
                if person is not self.key_building.leader and person.age() >= 18:
                    return household, person
        raise LookupError("the key building has no resident besides its leader")


# --- Geometry ----------------------------------------------------------------------------
Box = tuple[float, float, float, float]  # west, south, east, north


def _split(box: Box, parts: int, *, vertical: bool) -> list[Box]:
    west, south, east, north = box
    if vertical:
        width = (east - west) / parts
        return [(west + i * width, south, west + (i + 1) * width, north) for i in range(parts)]
    height = (north - south) / parts
    return [(west, north - (i + 1) * height, east, north - i * height) for i in range(parts)]


def _degrees(value: float) -> Decimal:
    return Decimal(f"{value:.6f}").quantize(SIX_PLACES)


def _area(code: str, name: str, box: Box) -> dict[str, Any]:
    west, south, east, north = (round(value, 6) for value in box)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {
        "code": code,
        "name": name,
        "latitude": _degrees((south + north) / 2),
        "longitude": _degrees((west + east) / 2),
        "boundary": {"type": "Polygon", "coordinates": [ring]},
    }


# --- The planner -------------------------------------------------------------------------
@dataclass
class _Slot:
    """One flat of a building: where a household may be registered."""

    entrance: EntrancePlan
    door_number: str
    code: str
    area: tuple[int, int]


class _Planner:
    def __init__(self, scale: float) -> None:
        if not 0 < scale <= 1:
            raise ValueError("scale must be in (0, 1]")
        self.scale = scale
        self.rng = random.Random(data.SEED)
        self.family_names = [name for name, _ in data.FAMILY_NAMES]
        self.family_weights = [weight for _, weight in data.FAMILY_NAMES]
        self.id_numbers: set[str] = set()
        self.phones: set[str] = set()

    def plan(self) -> DistrictPlan:
        district = DistrictPlan(
            **_area(data.DISTRICT_CODE, data.DISTRICT_NAME, data.DISTRICT_BOX), scale=self.scale
        )
        slots_by_building = self._territory(district)
        self._households(district, slots_by_building)
        self._fit_residents(district)
        self._finish_people(district)
        self._party(district)
        self._leaders(district)
        return district

    # Territory: subdistricts down to the flats of each entrance.
    def _territory(self, district: DistrictPlan) -> list[list[_Slot]]:
        slots_by_building: list[list[_Slot]] = []
        boxes = _split(data.DISTRICT_BOX, len(data.SUBDISTRICTS), vertical=True)
        for sub_spec, sub_box in zip(data.SUBDISTRICTS, boxes, strict=True):
            subdistrict = SubdistrictPlan(**_area(sub_spec.code, sub_spec.name, sub_box))
            district.subdistricts.append(subdistrict)
            community_boxes = _split(sub_box, len(sub_spec.communities), vertical=False)
            for c_index, (c_spec, c_box) in enumerate(
                zip(sub_spec.communities, community_boxes, strict=True)
            ):
                community = CommunityPlan(**_area(f"{sub_spec.code}{c_index + 1:03d}", c_spec.name, c_box))
                subdistrict.communities.append(community)
                grid_boxes = _split(c_box, len(c_spec.grids), vertical=True)
                for g_index, (contents, g_box) in enumerate(zip(c_spec.grids, grid_boxes, strict=True)):
                    number = "一二三四五六七八九十"[g_index]
                    grid = GridPlan(**_area(f"{community.code}-G{g_index + 1:02d}", f"第{number}网格", g_box))
                    community.grids.append(grid)
                    cells = _split(g_box, len(contents), vertical=False)
                    for k_index, (spec, cell) in enumerate(zip(contents, cells, strict=True)):
                        grid.compounds.append(self._compound(grid, k_index, spec, cell, slots_by_building))
        return slots_by_building

    def _compound(
        self, grid: GridPlan, index: int, spec: data.CompoundSpec, cell: Box, slots: list[list[_Slot]]
    ) -> CompoundPlan:
        west, south, east, north = cell
        compound = CompoundPlan(
            code=f"{grid.code}-{'L' if spec.loose else 'C'}{index + 1:02d}",
            name=spec.name,
            loose=spec.loose,
            year_built=spec.year_built,
            heating=spec.heating,
            property_manager=spec.property_manager,
            latitude=_degrees((south + north) / 2),
            longitude=_degrees((west + east) / 2),
        )
        kind = data.BUILDING_TYPES[spec.building_type]
        for number in range(1, spec.buildings + 1):
            floors = self.rng.randint(*kind.floors)
            building = BuildingPlan(
                code=f"{compound.code}-B{number:02d}",
                name=f"{spec.name}{number}号楼" if spec.loose else f"{number}号楼",
                floors=floors,
                latitude=_degrees(self.rng.uniform(south, north)),
                longitude=_degrees(self.rng.uniform(west, east)),
            )
            building_slots: list[_Slot] = []
            for unit in range(1, self.rng.randint(*kind.entrances) + 1):
                entrance = EntrancePlan(code=f"{building.code}-U{unit}", name=f"{unit}单元")
                building.entrances.append(entrance)
                for floor in range(1, floors + 1):
                    for flat in range(1, kind.per_floor + 1):
                        door = f"{floor}{flat:02d}"
                        building_slots.append(
                            _Slot(entrance, f"{unit}单元{door}", f"{entrance.code}-{door}", kind.area)
                        )
            compound.buildings.append(building)
            slots.append(building_slots)
        return compound

    # Households: which flats are registered, and who lives in them.
    def _households(self, district: DistrictPlan, slots_by_building: list[list[_Slot]]) -> None:
        target = max(len(slots_by_building), round(data.TARGET_HOUSEHOLDS * self.scale))
        # Every building keeps at least one household, so every building can have a leader.
        kept = [self.rng.choice(slots) for slots in slots_by_building]
        kept_codes = {slot.code for slot in kept}
        others = [slot for slots in slots_by_building for slot in slots if slot.code not in kept_codes]
        if target - len(kept) > len(others):
            raise ValueError("the demo's buildings have fewer flats than the household target")
        chosen = kept_codes | {slot.code for slot in self.rng.sample(others, target - len(kept))}
        for slots in slots_by_building:
            for slot in slots:
                if slot.code in chosen:
                    area = Decimal(f"{self.rng.uniform(*slot.area):.2f}")
                    household = HouseholdPlan(code=slot.code, door_number=slot.door_number, floor_area=area)
                    household.people = self._family()
                    slot.entrance.households.append(household)

    def _family_name(self) -> str:
        return self.rng.choices(self.family_names, self.family_weights)[0]

    def _person(self, family_name: str, gender: str, born: int, relation: str) -> PersonPlan:
        return PersonPlan(name=family_name, gender=gender, birth_year=born, relation=relation)

    def _couple(self, born: tuple[int, int], relation: str, shared: bool) -> list[PersonPlan]:
        husband_born = self.rng.randint(*born)
        wife_born = min(data.REFERENCE_YEAR - 20, husband_born + self.rng.randint(-2, 5))
        husband = self._person(self._family_name(), MALE, husband_born, relation)
        wife = self._person(self._family_name(), FEMALE, wife_born, relation)
        if relation == OWNER:
            if shared:
                husband.ownership_share = wife.ownership_share = Decimal("0.5")
            else:
                husband.ownership_share, wife.relation = Decimal("1"), FAMILY
        return [husband, wife]

    def _child(self, family_name: str, parent_born: int) -> PersonPlan:
        year = data.REFERENCE_YEAR
        born = parent_born + self.rng.randint(24, 36)
        if born > year - 4 and self.rng.random() < 0.6:  # keep infants near their real share (~3 %)
            born = max(parent_born + 20, year - self.rng.randint(4, 10))
        born = min(year, born)
        gender = self.rng.choice((MALE, FEMALE))
        return self._person(family_name, gender, born, FAMILY)

    def _family(self) -> list[PersonPlan]:
        """One household's members, owners first; names get their given part later."""
        rng, year = self.rng, data.REFERENCE_YEAR
        shape = rng.choices(
            (
                "elderly_single",
                "elderly_couple",
                "single",
                "couple",
                "nuclear1",
                "nuclear2",
                "three_gen",
                "lone",
            ),
            (10, 12, 10, 16, 30, 8, 8, 6),
        )[0]
        tenant = shape in {"single", "couple", "nuclear1"} and rng.random() < 0.25
        relation = TENANT if tenant else OWNER
        shared = rng.random() < 0.6
        if shape == "elderly_single":
            gender = FEMALE if rng.random() < 0.65 else MALE
            person = self._person(self._family_name(), gender, rng.randint(year - 93, year - 65), OWNER)
            person.ownership_share = Decimal("1")
            return [person]
        if shape == "elderly_couple":
            return self._couple((year - 88, year - 62), OWNER, shared)
        if shape == "single":
            gender = rng.choice((MALE, FEMALE))
            person = self._person(self._family_name(), gender, rng.randint(year - 45, year - 22), relation)
            person.ownership_share = Decimal("1") if relation == OWNER else None
            return [person]
        if shape == "couple":
            ages = (year - 35, year - 24) if rng.random() < 0.5 else (year - 70, year - 45)
            return self._couple(ages, relation, shared)
        if shape == "lone":  # a single parent with a child
            gender = FEMALE if rng.random() < 0.75 else MALE
            parent = self._person(self._family_name(), gender, rng.randint(year - 52, year - 28), OWNER)
            parent.ownership_share = Decimal("1")
            return [parent, self._child(parent.name, parent.birth_year)]
        members = self._couple((year - 55, year - 29), relation, shared)
        father = members[0]
        children = 2 if shape == "nuclear2" or (shape == "three_gen" and rng.random() < 0.3) else 1
        members += [self._child(father.name, members[1].birth_year) for _ in range(children)]
        if shape == "three_gen":
            side = members[rng.randint(0, 1)]  # his parents or hers
            elder_born = side.birth_year - rng.randint(24, 32)
            if rng.random() < 0.5:
                members.append(self._person(side.name, MALE, elder_born, FAMILY))
            members.append(self._person(self._family_name(), FEMALE, elder_born + rng.randint(0, 4), FAMILY))
        return members

    def _fit_residents(self, district: DistrictPlan) -> None:
        """Add or remove family members until the resident count meets the target exactly."""
        households = list(district.households())
        target = max(len(households), round(data.TARGET_RESIDENTS * self.scale))
        total = sum(len(household.people) for household in households)
        self.unfitted_residents = total
        while total < target:
            household = self.rng.choice(households)
            head = household.people[0]
            if household.people[0].relation == TENANT:
                continue
            household.people.append(self._child(head.name, max(p.birth_year for p in household.people[:2])))
            total += 1
        while total > target:
            household = self.rng.choice(households)
            if len(household.people) >= 3:
                household.people.pop()
                total -= 1

    def _finish_people(self, district: DistrictPlan) -> None:
        """Given names, ID numbers, phones and tags, once each household's members are final."""
        for household in district.households():
            names: set[str] = set()
            for person in household.people:
                family_name = person.name
                while person.name in names or person.name == family_name:  # siblings differ
                    person.name = family_name + self._given_name(person.gender, person.birth_year)
                names.add(person.name)
                person.id_number = self._id_number(person.gender, person.birth_year)
                person.phone = self._phone(person.age())
            self._tag(household)

    def _given_name(self, gender: str, born: int) -> str:
        for last_year, male, female in data.GIVEN_NAMES:
            if born <= last_year:
                return self.rng.choice(male if gender == MALE else female)
        raise AssertionError("GIVEN_NAMES must end with an open-ended generation")

    def _id_number(self, gender: str, born: int) -> str:
        # 兖州 was a county-level city (370882) until 2013, then a district of 济宁 (370812).
        region = "370882" if born < 2013 else "370812"
        while True:
            month = self.rng.randint(1, 12)
            day = self.rng.randint(1, calendar.monthrange(born, month)[1])
            serial = self.rng.randrange(1000)
            if (serial % 2 == 1) != (gender == MALE):  # the 17th digit is odd for men
                serial ^= 1
            first17 = f"{region}{born:04d}{month:02d}{day:02d}{serial:03d}"
            number = first17 + personal.id_check_digit(first17)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def _phone(self, age: int) -> str:
        if age < 12 or (age >= 85 and self.rng.random() < 0.5):
            return ""
        while True:
            phone = self.rng.choice(data.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def _tag(self, household: HouseholdPlan) -> None:
        rng, people = self.rng, household.people
        ages = [person.age() for person in people]
        subsistence = rng.random() < 0.015
        infants = any(age <= 3 for age in ages)
        for person, age in zip(people, ages, strict=True):
            tags = []
            if age >= 60 and len(people) == 1:
                tags.append("elderly_alone")
            if len(people) > 1 and min(ages) >= 60:
                tags.append("elderly_empty_nest")
            if age >= 80:
                tags.append("elderly_advanced")
            if rng.random() < (0.05 if age >= 60 else 0.015):
                tags.append("disabled")
            if subsistence:
                tags.append("subsistence")
            if person.gender == MALE and 35 <= age <= 75 and rng.random() < 0.06:
                tags.append("veteran")
            if infants:
                tags.append("infant_family")
            person.tags = tuple(tags)

    def _party(self, district: DistrictPlan) -> None:
        """About 6 % of adults are party members; some serve in a co-building unit (双报到)."""
        units = [code for code, _, _ in data.CO_BUILDING_UNITS]
        for household in district.households():
            for person in household.people:
                age = person.age()
                chance = 0 if age < 18 else 0.04 if age < 35 else 0.06 if age < 60 else 0.085
                if self.rng.random() < chance:
                    joined = min(data.REFERENCE_YEAR, person.birth_year + self.rng.randint(19, 40))
                    employer = self.rng.choice(units) if age < 60 and self.rng.random() < 0.45 else None
                    person.party = PartyPlan(joined_year=joined, employer=employer)
            if any(person.party for person in household.people):
                household.is_party_member_household = self.rng.random() < 0.35

    def _leaders(self, district: DistrictPlan) -> None:
        """One building leader per building; most are party members (红色楼栋长)."""
        for building in district.buildings():
            adults = [p for h in building.households() for p in h.people if p.age() >= 18]
            fit = [person for person in adults if 30 <= person.age() <= 72] or adults
            red = [person for person in fit if person.party]
            building.leader = self.rng.choice(red if red and self.rng.random() < 0.7 else fit)


def demo_plan(*, scale: float = 1.0) -> DistrictPlan:
    """Plan the demo district. `scale` (0–1] shrinks households and residents, not places."""
    return _Planner(scale).plan()
