"""Owners' votes through the services: electorate, ballots, replacement, refusals, closing, record."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.files.base import ContentFile

from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.votes.models import Ballot, VoteStatus
from gongzhi.votes.record import verify_record, vote_record
from gongzhi.votes.services import (
    BallotRefused,
    ballot_cast,
    vote_close,
    vote_create,
    vote_tally,
    votes_close_due,
)
from gongzhi.votes.tally import DEVELOPER, Threshold
from gongzhi.votes.tests.factories import CLOSES, OPENS, Compound, make_compound, open_vote

pytestmark = pytest.mark.django_db
DURING = OPENS + dt.timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(DURING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock) -> Compound:
    # 王 owns three flats; 李 and 赵 one each; two unsold flats of the developer; one flat without a registered owner.
    return make_compound(
        ["90", "90", "90", "60", "60", "80", "80", "75"],
        ["王建国", "王建国", "王建国", "李淑芬", "赵志强", None, None, None],
        unsold={5, 6},
    )


def paper() -> ContentFile:
    return ContentFile(b"%PDF-1.4 signed paper ballot", name="ballot.pdf")


def test_the_electorate_applies_the_headcount_rules(world: Compound) -> None:
    vote = open_vote(world)
    assert vote.status == VoteStatus.OPEN and vote.threshold == Threshold.THREE_QUARTERS
    keys = list(vote.parts.order_by("household__path").values_list("owner_key", flat=True))
    assert keys[0] == keys[1] == keys[2] != keys[3]
    assert keys[5] == keys[6] == DEVELOPER
    result = vote_tally(vote)
    # 王, 李, 赵, the developer, the unregistered flat: five people; all eight flats' area.
    assert (result.total_headcount, result.total_area) == (5, Decimal("625"))


def test_one_choice_covers_all_of_an_owners_flats(world: Compound) -> None:
    vote = open_vote(world)
    cast = ballot_cast(vote_id=vote.pk, person_id=world.owners["王建国"].pk, choice="for", method="in_person")
    assert len(cast.ballots) == 3 and cast.replaced == 0
    result = vote_tally(vote)
    assert (result.for_area, result.for_headcount) == (Decimal("270"), 1)


def test_a_later_ballot_replaces_the_earlier_on_all_parts_and_is_recorded(world: Compound) -> None:
    vote = open_vote(world)
    wang = world.owners["王建国"].pk
    ballot_cast(vote_id=vote.pk, person_id=wang, choice="for", method="in_person")
    with pytest.raises(BallotRefused):  # the same choice again changes nothing
        ballot_cast(vote_id=vote.pk, person_id=wang, choice="for", method="in_person")
    cast = ballot_cast(vote_id=vote.pk, person_id=wang, choice="against", method="in_person")
    assert cast.replaced == 3
    assert Ballot.objects.filter(vote=vote).count() == 6
    assert (
        Ballot.objects.filter(vote=vote, superseded_by__isnull=True)
        .values_list("choice", flat=True)
        .distinct()
        .get()
        == "against"
    )
    result = vote_tally(vote)
    assert (result.for_headcount, result.against_headcount, result.against_area) == (0, 1, Decimal("270"))


def test_refusals_change_nothing(world: Compound, clock) -> None:
    vote = open_vote(world)
    from gongzhi.people.models import Person

    stranger = Person.objects.create(name="路人", phone="13700000000", home=world.households[0])
    with pytest.raises(BallotRefused) as error:
        ballot_cast(vote_id=vote.pk, person_id=stranger.pk, choice="for", method="in_person")
    assert error.value.code == "not_an_owner"
    with pytest.raises(BallotRefused):
        ballot_cast(vote_id=vote.pk, person_id=world.owners["李淑芬"].pk, choice="for", method="proxy")
    with pytest.raises(BallotRefused):
        ballot_cast(
            vote_id=vote.pk,
            person_id=world.owners["李淑芬"].pk,
            choice="for",
            method="paper",
            document=paper(),
        )
    with pytest.raises(ValidationFailed):
        ballot_cast(vote_id=vote.pk, person_id=world.owners["李淑芬"].pk, choice="maybe", method="in_person")
    ballot_cast(
        vote_id=vote.pk,
        person_id=world.owners["李淑芬"].pk,
        choice="for",
        method="in_person",
        submit_key="k1",
    )
    with pytest.raises(BallotRefused) as error:
        ballot_cast(
            vote_id=vote.pk,
            person_id=world.owners["李淑芬"].pk,
            choice="against",
            method="in_person",
            submit_key="k1",
        )
    assert error.value.code == "duplicate_ballot"
    clock.move_to(CLOSES)
    with pytest.raises(BallotRefused):
        ballot_cast(vote_id=vote.pk, person_id=world.owners["赵志强"].pk, choice="for", method="in_person")
    assert Ballot.objects.filter(vote=vote).count() == 1


def test_proxy_paper_and_developer_ballots(world: Compound) -> None:
    vote = open_vote(world)
    staff = resolve_actor(world.staff)
    ballot_cast(
        vote_id=vote.pk,
        person_id=world.owners["李淑芬"].pk,
        choice="for",
        method="proxy",
        document=ContentFile(b"\x89PNG authorization", name="auth.png"),
        proxy_name="李明（女儿）",
    )
    ballot_cast(
        vote_id=vote.pk,
        person_id=world.owners["赵志强"].pk,
        choice="abstain",
        method="paper",
        document=paper(),
        actor=staff,
    )
    with pytest.raises(BallotRefused):  # the developer votes through staff only
        ballot_cast(vote_id=vote.pk, developer=True, choice="for", method="in_person")
    cast = ballot_cast(
        vote_id=vote.pk, developer=True, choice="for", method="paper", document=paper(), actor=staff
    )
    assert len(cast.ballots) == 2
    with pytest.raises(NotFound):
        ballot_cast(
            vote_id=vote.pk,
            person_id=world.owners["王建国"].pk,
            choice="for",
            method="paper",
            document=paper(),
            actor=resolve_actor(world.outsider_staff),
        )


def test_staff_outside_the_compound_cannot_run_votes(world: Compound) -> None:
    outsider = resolve_actor(world.outsider_staff)
    with pytest.raises((NotFound, PermissionDenied)):
        vote_create(
            actor=outsider,
            compound_id=world.compound.pk,
            question="停车方案",
            matter="common_parts",
            opens_at=OPENS,
            closes_at=CLOSES,
        )


def test_closing_tallies_publishes_and_the_record_verifies(world: Compound, clock) -> None:
    vote = open_vote(world)
    staff = resolve_actor(world.staff)
    for name, choice in (("王建国", "against"), ("李淑芬", "for"), ("赵志强", "for"), ("王建国", "for")):
        ballot_cast(vote_id=vote.pk, person_id=world.owners[name].pk, choice=choice, method="in_person")
    ballot_cast(vote_id=vote.pk, developer=True, choice="for", method="paper", document=paper(), actor=staff)
    with pytest.raises(BallotRefused):
        vote_close(actor=None, vote_id=vote.pk)
    clock.move_to(CLOSES)
    assert votes_close_due() == 1
    assert votes_close_due() == 0
    vote.refresh_from_db()
    # 4 of 5 people (≥ 2/3) with 550 of 625 m² (≥ 2/3) took part; all of them for: passes 3/4.
    assert vote.result["participating_headcount"] == 4 and vote.result["participating_area"] == "550.00"
    assert vote.result["passed"] is True and vote.result["chain_head"] == vote.chain_head
    record = json.loads(json.dumps(vote_record(vote)))
    assert len(record["ballots"]) == 7 and len(record["superseded"]) == 3
    verification = verify_record(record)
    assert verification.ok, verification.problems


def test_a_changed_ballot_breaks_the_chain(world: Compound, clock) -> None:
    vote = open_vote(world)
    for name in ("王建国", "李淑芬", "赵志强"):
        ballot_cast(vote_id=vote.pk, person_id=world.owners[name].pk, choice="for", method="in_person")
    clock.move_to(CLOSES)
    vote_close(actor=None, vote_id=vote.pk)
    vote.refresh_from_db()
    record = vote_record(vote)
    record["ballots"][1]["choice"] = "against"
    verification = verify_record(record)
    assert not verification.ok
    assert any("#2" in problem and "hash" in problem for problem in verification.problems)
    # Rewriting the hash too breaks the link to the next ballot.
    from gongzhi.votes import chain

    entry = record["ballots"][1]
    entry["hash"] = chain.entry_hash(
        entry["prev"], entry["seq"], entry["part"], entry["choice"], entry["cast_at"]
    )
    assert any("#3" in problem for problem in verify_record(record).problems)
    # Dropping a ballot is found as well.
    record = vote_record(vote)
    del record["ballots"][0]
    assert not verify_record(record).ok


def test_the_periodic_task_closes_due_votes(world: Compound, clock) -> None:
    from gongzhi.votes.tasks import close_due_votes

    open_vote(world)
    clock.move_to(CLOSES)
    assert close_due_votes.call_local() == 1


def test_an_early_close_needs_a_reason_is_audited_and_published(world: Compound, clock) -> None:
    from gongzhi.audit.models import AuditEntry

    vote = open_vote(world)
    staff = resolve_actor(world.staff)
    for name in ("王建国", "李淑芬", "赵志强"):
        ballot_cast(vote_id=vote.pk, person_id=world.owners[name].pk, choice="for", method="in_person")
    audited = AuditEntry.objects.count()
    with pytest.raises(BallotRefused):  # the sweep (no actor) never closes early
        vote_close(actor=None, vote_id=vote.pk, force=True, reason="a long enough reason")
    for reason in ("", "   ", "too short"):
        with pytest.raises(ValidationFailed) as refused:
            vote_close(actor=staff, vote_id=vote.pk, force=True, reason=reason)
        assert "reason" in refused.value.extra["fields"]
    vote.refresh_from_db()
    assert (vote.status, vote.closed_at, vote.close_reason) == (VoteStatus.OPEN, None, "")
    assert AuditEntry.objects.count() == audited
    clock.move_to(DURING + dt.timedelta(hours=5))
    vote_close(
        actor=staff, vote_id=vote.pk, force=True, reason="  业主大会决定暂停表决，修改议题后重新表决  "
    )
    vote.refresh_from_db()
    closed = DURING + dt.timedelta(hours=5)
    assert (vote.closed_at, vote.closes_at, vote.closed_early) == (closed, CLOSES, True)
    assert vote.close_reason == "业主大会决定暂停表决，修改议题后重新表决"
    entry = AuditEntry.objects.filter(target_id=str(vote.pk), field="status").latest("pk")
    assert (entry.actor, entry.reason) == (world.staff, vote.close_reason)
    assert entry.changes["status"] == ["open", "closed"] and entry.changes["closed_early"] is True
    assert entry.changes["closed_at"] == "2026-03-03T05:00:00.000000Z"
    record = json.loads(json.dumps(vote_record(vote)))
    assert record["vote"]["closed_at"] == "2026-03-03T05:00:00.000000Z"
    assert record["vote"]["closed_early"] is True and record["vote"]["closes"] == CLOSES.isoformat()
    assert verify_record(record).ok
    with pytest.raises(BallotRefused) as late:
        ballot_cast(
            vote_id=vote.pk, person_id=world.owners["王建国"].pk, choice="against", method="in_person"
        )
    assert "2026-03-03 13:00" in str(late.value.message)  # when it actually closed (Shanghai time)


def test_a_vote_closed_when_its_period_ends_is_not_early(world: Compound, clock) -> None:
    vote = open_vote(world)
    clock.move_to(CLOSES + dt.timedelta(seconds=40))
    votes_close_due()
    vote.refresh_from_db()
    assert (vote.closed_at, vote.closed_early, vote.close_reason) == (
        CLOSES + dt.timedelta(seconds=40),
        False,
        "",
    )
    record = vote_record(vote)
    assert record["vote"]["closed_early"] is False and verify_record(record).ok
