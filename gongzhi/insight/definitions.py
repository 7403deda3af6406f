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
"""

from __future__ import annotations

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


def ratio(numerator: int, denominator: int) -> Fraction | None:
    """An exact rate; None for an empty denominator (shown "—")."""
    return Fraction(numerator, denominator) if denominator else None
