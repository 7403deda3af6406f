"""The tally in words and bars, for the staff's live page and the public result page.

The state (quorum, passed) always comes from the exact comparisons of gongzhi.votes.tally; the
percentages here only size the bars. "Needed" figures are the smallest amounts that meet each
rule: areas are multiples of 0.01 m², so "at least 2/3 of W" needs ceil(2W/3) to the cent and
"more than half of W" needs floor(W/2) + 0.01.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gongzhi.votes.models import Vote, VoteStatus
from gongzhi.votes.tally import Tally, Threshold, at_least_two_thirds, consents

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Bar:
    key: str  # quorum_area | quorum_headcount | consent_area | consent_headcount
    label: str
    value: str  # "412.50 m² of 625.00 m²"
    percent: str  # the fill, "66.0"
    percent_text: str  # "66.0%"
    line: str  # the threshold line, "66.7"
    rule: str  # "At least 2/3: 416.67 m²"
    met: bool
    missing: str  # "4.17 m² more needed", or ""


@dataclass(frozen=True)
class TallyView:
    state: str  # quorum_not_met | passed | not_passed
    state_label: str
    state_note: str
    is_final: bool
    threshold_label: str
    bars: list[Bar]
    tally: Tally


def _m2(value: Decimal) -> str:
    return _("%(area)s m²") % {"area": f"{value.quantize(CENT):,.2f}"}


def _heads(value: int) -> str:
    return ngettext("%(count)d owner", "%(count)d owners", value) % {"count": value}


def _percent(part: Decimal | int, whole: Decimal | int) -> Decimal:
    if not whole:
        return Decimal(0)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def needed_area(whole: Decimal, rule: str) -> Decimal:
    if rule == "two_thirds":
        return (whole * 2 / 3).quantize(CENT, rounding=ROUND_CEILING)
    if rule == Threshold.THREE_QUARTERS:
        return (whole * 3 / 4).quantize(CENT, rounding=ROUND_CEILING)
    return (whole / 2).quantize(CENT, rounding=ROUND_FLOOR) + CENT


def needed_heads(whole: int, rule: str) -> int:
    if rule == "two_thirds":
        return (2 * whole + 2) // 3
    if rule == Threshold.THREE_QUARTERS:
        return (3 * whole + 3) // 4
    return whole // 2 + 1


LINES = {"two_thirds": "66.7", Threshold.THREE_QUARTERS: "75", Threshold.MORE_THAN_HALF: "50"}


def _rule_words(rule: str) -> str:
    if rule == "two_thirds":
        return _("at least two-thirds")
    if rule == Threshold.THREE_QUARTERS:
        return _("at least three-quarters")
    return _("more than half")


def _area_bar(key: str, label: str, part: Decimal, whole: Decimal, rule: str, met: bool) -> Bar:
    need = needed_area(whole, rule) if whole else Decimal(0)
    missing = max(need - part, Decimal(0)) if whole else Decimal(0)
    percent = _percent(part, whole)
    return Bar(
        key=key,
        label=label,
        value=_("%(part)s of %(whole)s") % {"part": _m2(part), "whole": _m2(whole)},
        percent=str(min(percent, Decimal(100))),
        percent_text=f"{percent}%",
        line=LINES[rule],
        rule=_("Needed: %(rule)s, that is %(amount)s") % {"rule": _rule_words(rule), "amount": _m2(need)},
        met=met,
        missing="" if met or not whole else _("%(amount)s more needed") % {"amount": _m2(missing)},
    )


def _heads_bar(key: str, label: str, part: int, whole: int, rule: str, met: bool) -> Bar:
    need = needed_heads(whole, rule) if whole else 0
    missing = max(need - part, 0)
    percent = _percent(part, whole)
    return Bar(
        key=key,
        label=label,
        value=_("%(part)s of %(whole)s") % {"part": _heads(part), "whole": _heads(whole)},
        percent=str(min(percent, Decimal(100))),
        percent_text=f"{percent}%",
        line=LINES[rule],
        rule=_("Needed: %(rule)s, that is %(amount)s") % {"rule": _rule_words(rule), "amount": _heads(need)},
        met=met,
        missing="" if met or not whole else _("%(amount)s more needed") % {"amount": _heads(missing)},
    )


def tally_from_result(result: dict[str, Any], threshold: Threshold) -> Tally:
    """The published figures of a closed vote as a Tally, its flags recomputed exactly."""
    area = {name: Decimal(str(result.get(name) or "0")) for name in result if name.endswith("_area")}
    heads = {name: int(result.get(name) or 0) for name in result if name.endswith("_headcount")}
    return Tally(
        total_area=area.get("total_area", Decimal(0)),
        total_headcount=heads.get("total_headcount", 0),
        participating_area=area.get("participating_area", Decimal(0)),
        participating_headcount=heads.get("participating_headcount", 0),
        for_area=area.get("for_area", Decimal(0)),
        for_headcount=heads.get("for_headcount", 0),
        against_area=area.get("against_area", Decimal(0)),
        against_headcount=heads.get("against_headcount", 0),
        abstain_area=area.get("abstain_area", Decimal(0)),
        abstain_headcount=heads.get("abstain_headcount", 0),
        quorum_area_met=at_least_two_thirds(area.get("participating_area", 0), area.get("total_area", 0)),
        quorum_headcount_met=at_least_two_thirds(
            heads.get("participating_headcount", 0), heads.get("total_headcount", 0)
        ),
        consent_area_met=consents(area.get("for_area", 0), area.get("participating_area", 0), threshold),
        consent_headcount_met=consents(
            heads.get("for_headcount", 0), heads.get("participating_headcount", 0), threshold
        ),
    )


def threshold_label(threshold: str) -> str:
    if threshold == Threshold.THREE_QUARTERS:
        return _(
            "Art. 278 items (6)–(8): at least three-quarters of the participating area and of the "
            "participating owners must agree."
        )
    return _("More than half of the participating area and of the participating owners must agree.")


def tally_view(vote: Vote, result: Tally) -> TallyView:
    threshold = Threshold(vote.threshold)
    final = vote.status == VoteStatus.CLOSED
    if not result.quorum_met:
        state = "quorum_not_met"
        label = _("Not passed: quorum not met") if final else _("Quorum not yet met")
        note = (
            _("Fewer than two-thirds of the area or of the owners took part.")
            if final
            else _("Owners holding two-thirds of the area and two-thirds of the owners must take part.")
        )
    elif result.passed:
        state = "passed"
        label = _("Passed")
        note = "" if final else _("So far: the result is final when voting closes.")
    else:
        state = "not_passed"
        label = _("Not passed")
        note = "" if final else _("So far: the result is final when voting closes.")
    bars = [
        _area_bar(
            "quorum_area",
            _("Taking part, by floor area"),
            result.participating_area,
            result.total_area,
            "two_thirds",
            result.quorum_area_met,
        ),
        _heads_bar(
            "quorum_headcount",
            _("Taking part, by number of owners"),
            result.participating_headcount,
            result.total_headcount,
            "two_thirds",
            result.quorum_headcount_met,
        ),
        _area_bar(
            "consent_area",
            _("For, by floor area (of those taking part)"),
            result.for_area,
            result.participating_area,
            threshold,
            result.consent_area_met,
        ),
        _heads_bar(
            "consent_headcount",
            _("For, by number of owners (of those taking part)"),
            result.for_headcount,
            result.participating_headcount,
            threshold,
            result.consent_headcount_met,
        ),
    ]
    return TallyView(
        state=state,
        state_label=label,
        state_note=note,
        is_final=final,
        threshold_label=threshold_label(threshold),
        bars=bars,
        tally=result,
    )


def choice_label(choice: str) -> str:
    return {"for": _("For"), "against": _("Against"), "abstain": _("Abstain")}.get(choice, choice)


def short_code(receipt: str) -> str:
    """The first 12 characters of a receipt, in three groups of four: "3f2a 91bc 04de"."""
    head = receipt[:12]
    return " ".join(head[i : i + 4] for i in range(0, 12, 4))
