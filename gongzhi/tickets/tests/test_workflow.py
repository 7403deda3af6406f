"""The whole transition table, legal and illegal, through the services that enforce it."""

from __future__ import annotations

import itertools

import pytest

from gongzhi.tickets.workflow import (
    ACTION_TARGET,
    FINAL_STATES,
    OPEN_STATES,
    TRANSITIONS,
    IllegalTransition,
    TicketAction,
    TicketState,
    allowed_actions,
    next_state,
)

LEGAL = {
    (TicketState.SUBMITTED, TicketAction.ACCEPT): TicketState.ACCEPTED,
    (TicketState.SUBMITTED, TicketAction.REJECT): TicketState.REJECTED,
    (TicketState.SUBMITTED, TicketAction.MERGE): TicketState.MERGED,
    (TicketState.REOPENED, TicketAction.ACCEPT): TicketState.ACCEPTED,
    (TicketState.REOPENED, TicketAction.REJECT): TicketState.REJECTED,
    (TicketState.REOPENED, TicketAction.MERGE): TicketState.MERGED,
    (TicketState.ACCEPTED, TicketAction.START): TicketState.IN_PROGRESS,
    (TicketState.ACCEPTED, TicketAction.RESOLVE): TicketState.RESOLVED,
    (TicketState.ACCEPTED, TicketAction.MERGE): TicketState.MERGED,
    (TicketState.IN_PROGRESS, TicketAction.RESOLVE): TicketState.RESOLVED,
    (TicketState.RESOLVED, TicketAction.CLOSE): TicketState.CLOSED,
    (TicketState.RESOLVED, TicketAction.REOPEN): TicketState.REOPENED,
}


@pytest.mark.parametrize(("state", "action"), list(itertools.product(TicketState, TicketAction)))
def test_every_state_and_action(state: TicketState, action: TicketAction) -> None:
    if (state, action) in LEGAL:
        assert next_state(state, action) == LEGAL[(state, action)]
        assert action in allowed_actions(state)
    else:
        with pytest.raises(IllegalTransition) as error:
            next_state(state, action)
        assert error.value.status == 409
        assert action not in allowed_actions(state)


def test_the_table_has_exactly_the_legal_moves() -> None:
    table = {(s, a) for s in TicketState for a in TicketAction if ACTION_TARGET[a] in TRANSITIONS[s]}
    assert table == set(LEGAL)


def test_final_states_have_no_way_out_and_are_not_open() -> None:
    assert {TicketState.CLOSED, TicketState.REJECTED, TicketState.MERGED} == FINAL_STATES
    assert not FINAL_STATES & OPEN_STATES
    assert TicketState.RESOLVED not in OPEN_STATES


def test_every_state_is_reachable_from_submitted() -> None:
    seen, frontier = {TicketState.SUBMITTED}, [TicketState.SUBMITTED]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(TicketState)
