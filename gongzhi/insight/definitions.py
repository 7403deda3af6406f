"""The three rates (三率) and how tickets are counted: written once, here, and shown with every figure.

How a ticket counts (the roll-ups in `services.py` implement exactly this; a test recounts it from the
raw events by brute force):

- **Once per ticket.** Every ticket is one row of facts, attributed to the local date (Asia/Shanghai) of
  its submission and to its grid, category, channel and kind, and to the highest level that owned it.
  A later event (accepted next week, reopened, rated) updates that ticket's facts where they were
  counted, never adds a second row. A period's figures are about the tickets *received* in it, with
  their outcomes as they stand now.
- **Received** (受理量): every submitted ticket, rejected ones included (a rejection is an answer the
  resident is owed, and it is not a response), except a **merged** one: a duplicate merged into
  another ticket stops counting altogether, and its survivor counts once, so merging never counts a
  matter twice.
- **Responded** (响应): the ticket was accepted. Only its *first* acceptance counts, with the
  `on_time` that acceptance recorded (accepted before the response deadline, with no escalation or
  reminder for that deadline); reopening does not take a response back.
- **Resolved** (解决): the ticket's *latest* outcome is a resolution — reopening retracts it until the
  ticket is resolved again; `on_time` is that latest resolution's (within the deadline in force, with
  no escalation or reminder for it since the round began).
- **Rated / satisfied** (评价 / 满意): the *latest* rating the resident gave, once: 满意 and 基本满意 count
  as satisfied, 不满意 does not. A ticket closed unrated is not rated.
- **Reopened / escalated**: the ticket was reopened / escalated at least once (counts of tickets).
- **Whistles** (吹哨): one per department summoned, attributed like everything else to the ticket's
  submission day and grid; a report-in counts as late when the department reported after its deadline.
- **Empty** periods have no rate (None, shown "—"), never 0 and never a division error; rates are
  exact fractions.
- **Time to respond** (响应用时): from the submission to the *first* acceptance, for the tickets counted as
  responded. **Time to resolve** (办结用时): from the submission to the *latest* resolution, for the
  tickets counted as resolved (a reopened ticket's clock keeps running from its submission). **Time to
  report in** (报到用时): from a whistle to the summoned department's report-in, per summons. Their
  median and 90th percentile come from duration histograms (`DURATION_BUCKETS_PER_DOUBLING` buckets
  per doubling of the time): each figure is the middle of its bucket, within 10 % of the exact value
  (times under a minute are shown as "under 1 minute").
- **Open now** (在办): tickets waiting for a response (submitted, reopened) or for a resolution
  (accepted, in progress) at the moment of the last roll-up, counted where they were received.
- **Hot topics** (热点): a word counts once per ticket received; the week so far (Monday to today) is
  compared with the same days of the week before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class RateDefinition:
    id: str
    name: Promise  # the English source; the Chinese is in the zh_Hans catalogue
    definition: Promise
    numerator: str  # a count field of `Counts`
    denominator: str


RESPONSE = RateDefinition(
    id="response",
    name=_("Response rate"),  # 响应率
    # 响应率 = 按时受理的诉求数 ÷ 受理量
    definition=_("Tickets accepted within their response deadline, divided by the tickets received."),
    numerator="responded_on_time",
    denominator="received",
)
RESOLUTION = RateDefinition(
    id="resolution",
    name=_("Resolution rate"),  # 解决率
    # 解决率 = 已办结的诉求数 ÷ 受理量
    definition=_("Tickets resolved (and not reopened since), divided by the tickets received."),
    numerator="resolved",
    denominator="received",
)
RESOLUTION_ON_TIME = RateDefinition(
    id="resolution_on_time",
    name=_("On-time resolution rate"),  # 按时办结率
    # 按时办结率 = 在办理时限内办结的诉求数 ÷ 受理量
    definition=_("Tickets resolved within their resolution deadline, divided by the tickets received."),
    numerator="resolved_on_time",
    denominator="received",
)
SATISFACTION = RateDefinition(
    id="satisfaction",
    name=_("Satisfaction rate"),  # 满意率
    # 满意率 = (满意 + 基本满意) ÷ 评价数
    definition=_("Tickets rated satisfied or basically satisfied, divided by the tickets rated."),
    numerator="satisfied",
    denominator="rated",
)

# The three rates (三率), the resolution rate in its two forms; every chart takes its wording from here.
RATES: tuple[RateDefinition, ...] = (RESPONSE, RESOLUTION, RESOLUTION_ON_TIME, SATISFACTION)
RATES_BY_ID: dict[str, RateDefinition] = {rate.id: rate for rate in RATES}

# The counts kept per ticket and summed in the roll-ups, in one order everywhere.
COUNT_FIELDS: tuple[str, ...] = (
    "received",
    "responded",
    "responded_on_time",
    "resolved",
    "resolved_on_time",
    "rated",
    "satisfied",
    "reopened",
    "escalated",
)
DEPARTMENT_COUNT_FIELDS: tuple[str, ...] = ("summoned", "reported_in", "reported_late")


@dataclass(kw_only=True)
class CountFields:
    """The counts of COUNT_FIELDS as attributes: a ticket's facts (0 or 1 each) or a sum of them."""

    received: int = 0
    responded: int = 0
    responded_on_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    rated: int = 0
    satisfied: int = 0  # 满意 + 基本满意
    reopened: int = 0
    escalated: int = 0

    def counts(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in COUNT_FIELDS)


def ratio(numerator: int, denominator: int) -> Fraction | None:
    """An exact rate; None for an empty denominator (shown "—")."""
    return Fraction(numerator, denominator) if denominator else None


# --- Durations ------------------------------------------------------------------------------------

# A histogram bucket is a quarter of a doubling wide: bucket 0 holds times under one minute, bucket
# k ≥ 1 the times from 2^((k-1)/4) to 2^(k/4) minutes. The middle of a bucket (geometric) is within
# 2^(1/8) − 1 ≈ 9 % of every time in it, hence "within 10 %".
DURATION_BUCKETS_PER_DOUBLING = 4
MAX_DURATION_BUCKET = 1 + DURATION_BUCKETS_PER_DOUBLING * 20  # 2^20 minutes: about two years


@dataclass(frozen=True)
class DurationDefinition:
    id: str
    name: Promise
    definition: Promise


TIME_TO_RESPOND = DurationDefinition(
    id="respond",
    name=_("Time to respond"),  # 响应用时
    definition=_(
        "From the submission to the first acceptance, for the tickets responded to; median and 90th "
        "percentile, each within 10 percent of the exact time."
    ),
)
TIME_TO_RESOLVE = DurationDefinition(
    id="resolve",
    name=_("Time to resolve"),  # 办结用时
    definition=_(
        "From the submission to the latest resolution, for the tickets resolved; median and 90th "
        "percentile, each within 10 percent of the exact time."
    ),
)
TIME_TO_REPORT_IN = DurationDefinition(
    id="report_in",
    name=_("Time to report in"),  # 报到用时
    definition=_(
        "From the whistle to the department's report-in, per summons; median and 90th percentile, each "
        "within 10 percent of the exact time."
    ),
)
DURATIONS: tuple[DurationDefinition, ...] = (TIME_TO_RESPOND, TIME_TO_RESOLVE)


def duration_bucket(seconds: float) -> int:
    """The histogram bucket of a duration (negative durations, a clock's jitter, count as 0)."""
    minutes = seconds / 60
    if minutes < 1:
        return 0
    bucket = 1 + math.floor(DURATION_BUCKETS_PER_DOUBLING * math.log2(minutes))
    return min(bucket, MAX_DURATION_BUCKET)


def bucket_minutes(bucket: int) -> float:
    """The time a bucket stands for, in minutes: its geometric middle (half a minute for bucket 0)."""
    if bucket <= 0:
        return 0.5
    return float(2 ** ((bucket - 0.5) / DURATION_BUCKETS_PER_DOUBLING))


def quantile_bucket(histogram: Mapping[int, int], fraction: Fraction) -> int | None:
    """The bucket holding the `fraction` quantile (nearest rank: the ⌈fraction × n⌉-th smallest
    time); None for an empty histogram."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket
    return max(histogram)  # unreachable: the counts add up to the total


MEDIAN = Fraction(1, 2)
P90 = Fraction(9, 10)


# --- Breakdowns -----------------------------------------------------------------------------------

# The dimensions the tickets received are counted by (NodeDimensionRollup.dimension), and the two
# duration histograms kept beside them (their value is a bucket). Kept per day for the communities,
# subdistricts and districts; a grid (a few hundred households, about ten tickets a day) is broken
# down from its own tickets' facts, which costs less than keeping a row per ticket and dimension.
DIMENSIONS: tuple[str, ...] = ("kind", "category", "channel", "level")
DURATION_DIMENSIONS: tuple[str, ...] = ("respond", "resolve")


# --- Targets --------------------------------------------------------------------------------------

# Percent per rate and level, when neither the back office (RateTarget) nor settings.INSIGHT_TARGETS
# say otherwise. A grid answers for every ticket; the higher levels' figures include the hard cases
# that came up to them, so their targets are a little lower.
TARGET_LEVELS: tuple[str, ...] = ("grid", "community", "subdistrict", "district", "department")
DEFAULT_TARGETS: dict[str, dict[str, int]] = {
    "grid": {"response": 95, "resolution": 90, "resolution_on_time": 85, "satisfaction": 90},
    "community": {"response": 95, "resolution": 90, "resolution_on_time": 85, "satisfaction": 90},
    "subdistrict": {"response": 93, "resolution": 88, "resolution_on_time": 82, "satisfaction": 88},
    "district": {"response": 92, "resolution": 85, "resolution_on_time": 80, "satisfaction": 88},
    "department": {"response": 90, "resolution": 85, "resolution_on_time": 80, "satisfaction": 85},
}


# --- Where figures are kept -----------------------------------------------------------------------

# The node kinds with a dashboard and roll-up rows of their own (NodeKind values): a grid's tickets
# are counted under the grid and under each of these above it.
DASHBOARD_KINDS: tuple[str, ...] = ("district", "subdistrict", "community", "grid")
