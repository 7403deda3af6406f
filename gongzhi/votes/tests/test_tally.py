"""The art. 278 tally at every boundary, and against a brute-force recount on random votes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.votes.tally import Choice, CountedBallot, Part, TallyError, Threshold, tally

FOR, AGAINST, ABSTAIN = Choice.FOR, Choice.AGAINST, Choice.ABSTAIN
HALF, THREE_QUARTERS = Threshold.MORE_THAN_HALF, Threshold.THREE_QUARTERS


def parts(*areas: str, owners: list[str] | None = None, unsold: set[int] = frozenset()) -> list[Part]:
    owners = owners or [f"o{i}" for i in range(len(areas))]
    return [Part(str(i), Decimal(a), owners[i], i in unsold) for i, a in enumerate(areas)]


def ballots(*choices: Choice | None) -> list[CountedBallot]:
    return [CountedBallot(str(i), c) for i, c in enumerate(choices) if c is not None]


def test_exactly_two_thirds_of_area_but_not_of_headcount_misses_the_quorum() -> None:
    # Areas 100, 100, 50, 50, 50, 50 = 400 m²; six owners. Parts 0 and 1 vote: 200 m² (1/2). Not enough.
    # Parts 0–2 and 3: 300 m² of 400 is 3/4 ≥ 2/3; 4 of 6 heads is exactly 2/3: met.
    p = parts("100", "100", "50", "50", "50", "50")
    result = tally(p, ballots(FOR, FOR, FOR, FOR), HALF)
    assert (result.quorum_area_met, result.quorum_headcount_met, result.quorum_met) == (True, True, True)
    # Area exactly 2/3 (200 of 300) with 2 of 4 heads: area met, headcount not.
    p = parts("100", "100", "50", "50")
    result = tally(p, ballots(FOR, FOR), HALF)
    assert result.participating_area == Decimal("200") and result.total_area == Decimal("300")
    assert (result.quorum_area_met, result.quorum_headcount_met, result.passed) == (True, False, False)


def test_exactly_two_thirds_of_headcount_but_less_area_misses_the_quorum() -> None:
    p = parts("10", "10", "100")
    result = tally(p, ballots(FOR, FOR), HALF)
    assert (result.quorum_headcount_met, result.quorum_area_met, result.passed) == (True, False, False)


def test_exactly_three_quarters_consents_for_items_six_to_eight() -> None:
    # Four equal parts, all take part, three for: exactly 3/4 of area and of heads.
    result = tally(parts("80", "80", "80", "80"), ballots(FOR, FOR, FOR, AGAINST), THREE_QUARTERS)
    assert (result.consent_area_met, result.consent_headcount_met, result.passed) == (True, True, True)


def test_just_under_three_quarters_of_area_fails() -> None:
    result = tally(parts("80", "80", "79.99", "80.01"), ballots(FOR, FOR, FOR, AGAINST), THREE_QUARTERS)
    assert result.for_area == Decimal("239.99")
    assert (result.consent_area_met, result.consent_headcount_met, result.passed) == (False, True, False)


def test_exactly_half_is_not_more_than_half() -> None:
    result = tally(parts("50", "50", "50", "50"), ballots(FOR, FOR, AGAINST, AGAINST), HALF)
    assert (result.consent_area_met, result.consent_headcount_met, result.passed) == (False, False, False)
    result = tally(parts("50", "50.01", "50", "50"), ballots(FOR, FOR, AGAINST, AGAINST), HALF)
    assert result.consent_area_met and not result.consent_headcount_met and not result.passed


def test_abstentions_take_part_but_do_not_consent() -> None:
    result = tally(parts("60", "60", "60"), ballots(FOR, ABSTAIN, ABSTAIN), HALF)
    assert result.quorum_met and result.participating_headcount == 3
    assert (result.for_headcount, result.abstain_headcount, result.passed) == (1, 2, False)


def test_one_owner_of_three_flats_counts_as_one_person_with_all_their_area() -> None:
    p = parts("90", "90", "90", "60", "60", owners=["wang", "wang", "wang", "li", "zhao"])
    result = tally(p, ballots(FOR, FOR, FOR, AGAINST, None), HALF)
    assert (result.total_headcount, result.participating_headcount, result.for_headcount) == (3, 2, 1)
    assert (result.for_area, result.participating_area) == (Decimal("270"), Decimal("330"))
    # Area for 270 > 330/2, heads for 1 of 2 is not more than half.
    assert result.consent_area_met and not result.consent_headcount_met and not result.passed


def test_the_developers_unsold_flats_count_as_one_person() -> None:
    p = parts("70", "70", "70", "70", "70", owners=["d1", "d2", "d3", "a", "b"], unsold={0, 1, 2})
    result = tally(p, ballots(AGAINST, AGAINST, AGAINST, FOR, FOR), HALF)
    assert result.total_headcount == 3
    assert (result.participating_headcount, result.for_headcount) == (3, 2)
    assert (result.for_area, result.participating_area) == (Decimal("140"), Decimal("350"))
    assert result.consent_headcount_met and not result.consent_area_met


def test_nobody_voting_passes_nothing() -> None:
    result = tally(parts("50", "50"), [], HALF)
    assert (result.participating_area, result.quorum_met, result.passed) == (Decimal(0), False, False)


def test_inconsistent_ballots_are_refused() -> None:
    with pytest.raises(TallyError):
        tally(parts("50", "50"), [CountedBallot("0", FOR), CountedBallot("0", AGAINST)], HALF)
    with pytest.raises(TallyError):
        tally(parts("50"), [CountedBallot("9", FOR)], HALF)
    with pytest.raises(TallyError):
        tally(parts("50", "50", owners=["a", "a"]), ballots(FOR, AGAINST), HALF)


@dataclass(frozen=True)
class Recount:
    total_area: Fraction
    total_headcount: int
    participating_area: Fraction
    participating_headcount: int
    for_area: Fraction
    for_headcount: int
    against_area: Fraction
    against_headcount: int
    abstain_area: Fraction
    abstain_headcount: int
    quorum_met: bool
    passed: bool


def brute_force(parts_: list[Part], ballots_: list[CountedBallot], threshold: Threshold) -> Recount:
    """An independent recount with Fractions, person by person."""
    people: dict[str, list[Part]] = {}
    for part in parts_:
        people.setdefault("DEV" if part.developer_unsold else "P" + part.owner, []).append(part)
    choice = {b.part: b.choice for b in ballots_}
    area = lambda ps: sum((Fraction(p.area) for p in ps), Fraction(0))  # noqa: E731
    total_area, total_heads = area(parts_), len(people)
    voting = {k: ps for k, ps in people.items() if any(p.id in choice for p in ps)}
    chose = {c: {k: ps for k, ps in voting.items() if choice[ps[0].id] == c} for c in (FOR, AGAINST, ABSTAIN)}
    part_area = sum((area(ps) for ps in voting.values()), Fraction(0))
    by_choice = {c: sum((area(ps) for ps in chosen.values()), Fraction(0)) for c, chosen in chose.items()}
    quorum = part_area / total_area >= Fraction(2, 3) and Fraction(len(voting), total_heads) >= Fraction(2, 3)
    consent = False
    if voting:
        share_area, share_heads = by_choice[FOR] / part_area, Fraction(len(chose[FOR]), len(voting))
        if threshold == THREE_QUARTERS:
            consent = share_area >= Fraction(3, 4) and share_heads >= Fraction(3, 4)
        else:
            consent = share_area > Fraction(1, 2) and share_heads > Fraction(1, 2)
    return Recount(
        total_area=total_area,
        total_headcount=total_heads,
        participating_area=part_area,
        participating_headcount=len(voting),
        for_area=by_choice[FOR],
        for_headcount=len(chose[FOR]),
        against_area=by_choice[AGAINST],
        against_headcount=len(chose[AGAINST]),
        abstain_area=by_choice[ABSTAIN],
        abstain_headcount=len(chose[ABSTAIN]),
        quorum_met=quorum,
        passed=quorum and consent,
    )


@st.composite
def votes(draw):
    count = draw(st.integers(min_value=1, max_value=30))
    owners = draw(st.lists(st.sampled_from("abcdefghij"), min_size=count, max_size=count))
    areas = draw(st.lists(st.integers(min_value=1, max_value=20000), min_size=count, max_size=count))
    unsold = draw(st.sets(st.integers(min_value=0, max_value=count - 1), max_size=count // 3))
    the_parts = [Part(str(i), Decimal(a) / 100, owners[i], i in unsold) for i, a in enumerate(areas)]
    persons = sorted({p.person for p in the_parts})
    picks = draw(
        st.lists(st.sampled_from([None, FOR, AGAINST, ABSTAIN]), min_size=len(persons), max_size=len(persons))
    )
    of_person = dict(zip(persons, picks, strict=True))
    the_ballots = [
        CountedBallot(p.id, of_person[p.person]) for p in the_parts if of_person[p.person] is not None
    ]
    return the_parts, the_ballots, draw(st.sampled_from(list(Threshold)))


@settings(max_examples=300)
@given(votes())
def test_the_tally_equals_a_brute_force_recount(vote) -> None:
    the_parts, the_ballots, threshold = vote
    result = tally(the_parts, the_ballots, threshold)
    recount = brute_force(the_parts, the_ballots, threshold)
    # Every figure, exactly: the areas as Fractions of the Decimals (no rounding), the heads as counts.
    mine = {name: getattr(result, name) for name in recount.__dataclass_fields__}
    mine = {name: Fraction(value) if name.endswith("_area") else value for name, value in mine.items()}
    assert mine == asdict(recount)
    assert result.for_area + result.against_area + result.abstain_area == result.participating_area
    assert (
        result.for_headcount + result.against_headcount + result.abstain_headcount
        == result.participating_headcount
    )
    assert result.participating_area <= result.total_area
