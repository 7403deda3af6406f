"""The ticket state machine (诉 → 办 → 评): states, actions and the one table of legal moves.

Only services change a ticket's state, always through `next_state`, and every change writes a
TicketEvent. Reviewers and the table-driven tests read TRANSITIONS; keep it literal.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import ApplicationError


class TicketState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")  # 待受理: waiting for the owning level to accept
    ACCEPTED = "accepted", _("Accepted")  # 已受理: someone owns it and has answered the resident
    IN_PROGRESS = "in_progress", _("In progress")  # 办理中: work under way (maybe with departments)
    RESOLVED = "resolved", _("Resolved")  # 已办结: waiting for the resident's rating
    CLOSED = "closed", _("Closed")  # 已关闭: rated, or the rating window ended
    REJECTED = "rejected", _("Rejected")  # 不予受理: out of scope, with a reason
    MERGED = "merged", _("Merged")  # 已合并: a duplicate; its reporters follow the surviving ticket
    REOPENED = "reopened", _("Reopened")  # 重新办理: rated unsatisfied or reopened; one level up


class TicketAction(models.TextChoices):
    ACCEPT = "accept", _("Accept")
    START = "start", _("Start work")
    RESOLVE = "resolve", _("Resolve")
    CLOSE = "close", _("Close")
    REJECT = "reject", _("Reject")
    MERGE = "merge", _("Merge into another ticket")
    REOPEN = "reopen", _("Reopen")


# The state each action leads to.
ACTION_TARGET: dict[TicketAction, TicketState] = {
    TicketAction.ACCEPT: TicketState.ACCEPTED,
    TicketAction.START: TicketState.IN_PROGRESS,
    TicketAction.RESOLVE: TicketState.RESOLVED,
    TicketAction.CLOSE: TicketState.CLOSED,
    TicketAction.REJECT: TicketState.REJECTED,
    TicketAction.MERGE: TicketState.MERGED,
    TicketAction.REOPEN: TicketState.REOPENED,
}

TRANSITIONS: dict[TicketState, frozenset[TicketState]] = {
    TicketState.SUBMITTED: frozenset({TicketState.ACCEPTED, TicketState.REJECTED, TicketState.MERGED}),
    TicketState.REOPENED: frozenset({TicketState.ACCEPTED, TicketState.REJECTED, TicketState.MERGED}),
    TicketState.ACCEPTED: frozenset({TicketState.IN_PROGRESS, TicketState.RESOLVED, TicketState.MERGED}),
    TicketState.IN_PROGRESS: frozenset({TicketState.RESOLVED}),
    TicketState.RESOLVED: frozenset({TicketState.CLOSED, TicketState.REOPENED}),
    TicketState.CLOSED: frozenset(),
    TicketState.REJECTED: frozenset(),
    TicketState.MERGED: frozenset(),
}

# States in which a ticket waits for a first response (accept) and for a resolution.
AWAITING_RESPONSE = frozenset({TicketState.SUBMITTED, TicketState.REOPENED})
AWAITING_RESOLUTION = frozenset({TicketState.ACCEPTED, TicketState.IN_PROGRESS})
OPEN_STATES = AWAITING_RESPONSE | AWAITING_RESOLUTION
FINAL_STATES = frozenset(state for state, targets in TRANSITIONS.items() if not targets)


class IllegalTransition(ApplicationError):
    code = "illegal_transition"
    status = 409


def allowed_actions(state: str) -> list[TicketAction]:
    targets = TRANSITIONS[TicketState(state)]
    return [action for action, target in ACTION_TARGET.items() if target in targets]


def next_state(current: str, action: str) -> TicketState:
    """The state `action` leads to from `current`, or IllegalTransition with a clear message."""
    state, act = TicketState(current), TicketAction(action)
    target = ACTION_TARGET[act]
    if target not in TRANSITIONS[state]:
        raise IllegalTransition(
            _("A ticket that is “%(state)s” cannot be “%(action)s”.")
            % {"state": state.label, "action": act.label}
        )
    return target


class Level(models.IntegerChoices):
    """Who owns a ticket: small matters stay in the grid, big ones go to the community."""

    GRID = 1, _("Grid")
    COMMUNITY = 2, _("Community")
    SUBDISTRICT = 3, _("Subdistrict")


LEVEL_NODE_KIND = {Level.GRID: "grid", Level.COMMUNITY: "community", Level.SUBDISTRICT: "subdistrict"}
