"""The tally of an owners' vote under Civil Code art. 278 and the Supreme People's Court's
interpretation on building ownership (arts. 8–9). Pure functions: the server, the tests and
`gongzhi vote-verify` all count with this module and nothing else.

- Electorate: the exclusive parts (households) of the compound. Area: each part's registered floor
  area. Headcount: one per part, except that all parts of one owner count as one person, and the
  developer's unsold or undelivered parts together count as one person.
- Quorum: owners holding at least 2/3 of the total area AND at least 2/3 of the headcount take part.
- Consent: items (6)–(8) of art. 278 need at least 3/4 of the participating area AND headcount;
  every other matter more than half of both. "At least" includes the boundary, "more than half" does
  not. Abstentions take part but do not consent.
Fractions are compared by cross-multiplication of exact Decimals: no rounding anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

DEVELOPER = "developer"  # the one person all unsold parts count as


class Threshold(StrEnum):
    THREE_QUARTERS = "three_quarters"  # art. 278 (6)–(8): at least 3/4
    MORE_THAN_HALF = "more_than_half"  # every other matter: more than 1/2


class Choice(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


@dataclass(frozen=True)
class Part:
    id: str
    area: Decimal
    owner: str  # a pseudonym, the same for every part of one owner
    developer_unsold: bool = False

    @property
    def person(self) -> str:
        return DEVELOPER if self.developer_unsold else self.owner


@dataclass(frozen=True)
class CountedBallot:
    part: str
    choice: Choice


@dataclass(frozen=True)
class Tally:
    total_area: Decimal
    total_headcount: int
    participating_area: Decimal
    participating_headcount: int
    for_area: Decimal
    for_headcount: int
    against_area: Decimal
    against_headcount: int
    abstain_area: Decimal
    abstain_headcount: int
    quorum_area_met: bool
    quorum_headcount_met: bool
    consent_area_met: bool
    consent_headcount_met: bool

    @property
    def quorum_met(self) -> bool:
        return self.quorum_area_met and self.quorum_headcount_met

    @property
    def passed(self) -> bool:
        return self.quorum_met and self.consent_area_met and self.consent_headcount_met


class TallyError(ValueError):
    """The ballots do not fit the electorate (unknown part, two ballots for one part, mixed choices)."""


def at_least_two_thirds(part: Decimal | int, whole: Decimal | int) -> bool:
    return whole > 0 and part * 3 >= whole * 2


def consents(favour: Decimal | int, participating: Decimal | int, threshold: Threshold) -> bool:
    if participating <= 0:
        return False
    if threshold == Threshold.THREE_QUARTERS:
        return favour * 4 >= participating * 3
    return favour * 2 > participating


def tally(parts: Iterable[Part], ballots: Iterable[CountedBallot], threshold: Threshold) -> Tally:
    by_id: dict[str, Part] = {}
    for part in parts:
        if part.id in by_id:
            raise TallyError(f"part {part.id} is listed twice")
        if part.area <= 0:
            raise TallyError(f"part {part.id} has no positive area")
        by_id[part.id] = part
    choice_of_part: dict[str, Choice] = {}
    choice_of_person: dict[str, Choice] = {}
    for ballot in ballots:
        voted = by_id.get(ballot.part)
        if voted is None:
            raise TallyError(f"ballot for unknown part {ballot.part}")
        if ballot.part in choice_of_part:
            raise TallyError(f"part {ballot.part} has two counted ballots")
        choice = Choice(ballot.choice)
        earlier = choice_of_person.setdefault(voted.person, choice)
        if earlier != choice:
            raise TallyError(f"owner {voted.person} has different choices on different parts")
        choice_of_part[ballot.part] = choice
    area = {choice: Decimal(0) for choice in Choice}
    for part_id, choice in choice_of_part.items():
        area[choice] += by_id[part_id].area
    heads = {choice: sum(1 for c in choice_of_person.values() if c == choice) for choice in Choice}
    total_area = sum((part.area for part in by_id.values()), Decimal(0))
    total_heads = len({part.person for part in by_id.values()})
    participating_area = sum(area.values(), Decimal(0))
    participating_heads = len(choice_of_person)
    return Tally(
        total_area=total_area,
        total_headcount=total_heads,
        participating_area=participating_area,
        participating_headcount=participating_heads,
        for_area=area[Choice.FOR],
        for_headcount=heads[Choice.FOR],
        against_area=area[Choice.AGAINST],
        against_headcount=heads[Choice.AGAINST],
        abstain_area=area[Choice.ABSTAIN],
        abstain_headcount=heads[Choice.ABSTAIN],
        quorum_area_met=at_least_two_thirds(participating_area, total_area),
        quorum_headcount_met=at_least_two_thirds(participating_heads, total_heads),
        consent_area_met=consents(area[Choice.FOR], participating_area, threshold),
        consent_headcount_met=consents(heads[Choice.FOR], participating_heads, threshold),
    )
