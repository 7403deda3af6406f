"""Every write of owners' votes: create, open (freeze the electorate), cast, close (tally, publish)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.people.models import Person, Relation, Residency
from gongzhi.territory.models import Node, NodeKind, subtree_q
from gongzhi.votes import chain
from gongzhi.votes.models import (
    VOTE_TRANSITIONS,
    Ballot,
    BallotMethod,
    Matter,
    Vote,
    VoteOwner,
    VotePart,
    VoteStatus,
    threshold_for,
)
from gongzhi.votes.tally import DEVELOPER, Choice, CountedBallot, Part, Tally, Threshold, tally


class BallotRefused(ApplicationError):
    code = "ballot_refused"
    status = 409


def _transition(vote: Vote, to: VoteStatus) -> None:
    if to not in VOTE_TRANSITIONS[VoteStatus(vote.status)]:
        raise BallotRefused(
            _("A vote that is “%(status)s” cannot become “%(to)s”.")
            % {"status": VoteStatus(vote.status).label, "to": to.label}
        )
    vote.status = to


def _locked_vote(actor: Actor | None, vote_id: int, perm: Perm = Perm.RUN_VOTES) -> Vote:
    vote = Vote.objects.select_for_update(of=("self",)).select_related("compound").filter(pk=vote_id).first()
    if vote is None:
        raise NotFound()
    if actor is not None:
        actor.ensure_can(perm, vote.compound.path)
    return vote


@transaction.atomic
def vote_create(
    *,
    actor: Actor,
    compound_id: int,
    question: str,
    matter: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    description: str = "",
) -> Vote:
    compound = Node.objects.filter(pk=compound_id, kind=NodeKind.COMPOUND).first()
    if compound is None:
        raise NotFound()
    actor.ensure_can(Perm.RUN_VOTES, compound.path)
    errors: dict[str, str] = {}
    question = (question or "").strip()
    if not 4 <= len(question) <= 300:
        errors["question"] = _("Write the question in 4 to 300 characters.")
    if matter not in Matter.values:
        errors["matter"] = _("Choose the matter (Civil Code art. 278).")
    if closes_at <= opens_at:
        errors["closes_at"] = _("Voting must close after it opens.")
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), extra={"fields": errors})
    vote = Vote.objects.create(
        compound=compound,
        question=question,
        description=(description or "").strip(),
        matter=matter,
        threshold=threshold_for(matter),
        opens_at=opens_at,
        closes_at=closes_at,
        created_by=actor.user,
        created_at=clock.now(),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, target=vote, node_path=compound.path)
    return vote


def owner_pseudonym(vote_id: int, person_ids: list[int]) -> str:
    """The same short pseudonym for every part of one owner (or one set of co-owners) in one vote."""
    message = f"{vote_id}:{','.join(str(p) for p in sorted(person_ids))}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"o-{digest[:12]}"


@transaction.atomic
def vote_open(*, actor: Actor, vote_id: int) -> Vote:
    """Freeze the electorate: every household of the compound with a floor area, and its owners."""
    vote = _locked_vote(actor, vote_id)
    _transition(vote, VoteStatus.OPEN)
    households = list(
        Node.objects.filter(subtree_q("path", vote.compound.path), kind=NodeKind.HOUSEHOLD).order_by("path")
    )
    missing_area = [h.name for h in households if h.floor_area is None]
    if missing_area:
        raise ValidationFailed(
            _("Register the floor area of every household first; missing: %(names)s")
            % {"names": "、".join(missing_area[:10])}
        )
    if not households:
        raise ValidationFailed(_("This compound has no households to vote."))
    owners: dict[int, list[int]] = defaultdict(list)
    for household_id, person_id in Residency.objects.filter(
        household__in=households, relation=Relation.OWNER
    ).values_list("household_id", "person_id"):
        owners[household_id].append(person_id)
    parts = []
    for household in households:
        people = sorted(owners.get(household.pk, []))
        if household.is_developer_unsold:
            key = DEVELOPER
        elif people:
            key = owner_pseudonym(vote.pk, people)
        else:
            # No registered owner: the part still counts in the totals, and one person, but cannot vote
            # until the community registers its owner.
            key = owner_pseudonym(vote.pk, [-household.pk])
        parts.append(
            VotePart(
                vote=vote,
                household=household,
                area=household.floor_area,
                owner_key=key,
                developer_unsold=household.is_developer_unsold,
                person_ids=people,
            )
        )
    VotePart.objects.bulk_create(parts, batch_size=2000)
    voters = {
        (person_id, part.owner_key)
        for part in parts
        if not part.developer_unsold
        for person_id in part.person_ids
    }
    VoteOwner.objects.bulk_create(
        [VoteOwner(vote=vote, person_id=person_id, owner_key=key) for person_id, key in sorted(voters)],
        batch_size=2000,
    )
    vote.genesis = chain.genesis(vote.pk, vote.question)
    vote.chain_head = vote.genesis
    vote.opened_at = clock.now()
    vote.save(update_fields=["status", "genesis", "chain_head", "opened_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=vote,
        node_path=vote.compound.path,
        field="status",
        changes={"status": [VoteStatus.DRAFT.value, VoteStatus.OPEN.value], "parts": len(parts)},
    )
    return vote


@dataclass
class CastResult:
    ballots: list[Ballot]
    replaced: int  # earlier ballots of the same owner this casting replaced
    receipt: str  # the hash of the first entry: the voter's proof that the ballot is counted as cast


def _parts_of(vote: Vote, *, person: Person | None, developer: bool) -> list[VotePart]:
    if developer:
        return list(vote.parts.filter(developer_unsold=True))
    if person is None:
        return []
    # All parts of the owner (one choice for all), including co-owned sets under the same key.
    keys = VoteOwner.objects.filter(vote=vote, person=person).values("owner_key")
    return list(vote.parts.filter(owner_key__in=keys, developer_unsold=False).order_by("pk"))


@transaction.atomic
def ballot_cast(
    *,
    vote_id: int,
    choice: str,
    method: str,
    person_id: int | None = None,
    developer: bool = False,
    actor: Actor | None = None,
    document: File | None = None,
    proxy_name: str = "",
    submit_key: str = "",
) -> CastResult:
    """Record an owner's choice for all their parts; a later ballot of the same owner replaces the earlier.

    In person: the view has verified the owner's phone (no actor). By proxy: an authorization document is
    required. On paper: staff (actor with RUN_VOTES) enter it with the scan. The developer's unsold parts
    vote as one, entered by staff.
    """
    vote = Vote.objects.select_for_update(of=("self",)).select_related("compound").filter(pk=vote_id).first()
    if vote is None:
        raise NotFound()
    if actor is not None:
        actor.ensure_can(Perm.RUN_VOTES, vote.compound.path)
    now = clock.now()
    if vote.status == VoteStatus.CLOSED and vote.closed_at is not None:
        raise BallotRefused(
            _("Voting closed on %(closed)s; no more ballots are accepted.")
            % {"closed": clock.localtime(vote.closed_at).strftime("%Y-%m-%d %H:%M")}
        )
    if vote.status != VoteStatus.OPEN or not vote.opens_at <= now < vote.closes_at:
        raise BallotRefused(
            _("Voting is not open: ballots are accepted from %(opens)s until %(closes)s.")
            % {
                "opens": clock.localtime(vote.opens_at).strftime("%Y-%m-%d %H:%M"),
                "closes": clock.localtime(vote.closes_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
    if choice not in Choice.__members__.values():
        raise ValidationFailed(_("Choose for, against or abstain."))
    if method not in BallotMethod.values:
        raise ValidationFailed(_("Unknown way of voting."))
    if method in (BallotMethod.PAPER, BallotMethod.PROXY) and document is None:
        message = (
            _("A proxy ballot needs the owner's signed authorization.")
            if method == BallotMethod.PROXY
            else _("A paper ballot needs the scan of the signed paper.")
        )
        raise BallotRefused(message, extra={"fields": {"document": message}})
    if (method == BallotMethod.PAPER or developer) and actor is None:
        raise BallotRefused(_("Paper ballots and the developer's ballot are entered by staff."))
    if submit_key and vote.ballots.filter(submit_key=submit_key).exists():
        raise BallotRefused(_("This ballot was already recorded."), code="duplicate_ballot")
    person = Person.objects.filter(pk=person_id).first() if person_id else None
    parts = _parts_of(vote, person=person, developer=developer)
    if not parts:
        raise BallotRefused(_("Only the owners of this compound's homes may vote."), code="not_an_owner")
    current = {b.part_id: b for b in Ballot.objects.filter(part__in=parts, superseded_by__isnull=True)}
    if current and len(current) == len(parts) and {b.choice for b in current.values()} == {choice}:
        raise BallotRefused(_("Your ballot with this choice is already counted."), code="duplicate_ballot")
    cast_at = chain.timestamp(now)
    prev, seq = vote.chain_head, vote.next_seq
    created: list[Ballot] = []
    for part in parts:
        digest = chain.entry_hash(prev, seq, str(part.pk), choice, cast_at)
        created.append(
            Ballot(
                vote=vote,
                part=part,
                seq=seq,
                choice=choice,
                method=method,
                cast_at=now,
                hash=digest,
                prev=prev,
                voter=person,
                proxy_name=(proxy_name or "").strip()[:50],
                entered_by=actor.user if actor is not None else None,
                submit_key=submit_key,
            )
        )
        prev, seq = digest, seq + 1
    replaced = list(current.values())
    if document is not None:
        stored = default_storage.save(
            f"votes/{vote.pk}/{secrets.token_hex(8)}-{document.name or 'document'}", document
        )
        for ballot in created:
            ballot.document.name = stored
    saved: list[Ballot] = []
    for ballot in created:
        old = current.get(ballot.part_id)
        if old is not None:
            # One counted ballot per part (a partial unique index): park the old one on itself, insert the
            # new one, then point the old one at it.
            Ballot.objects.filter(pk=old.pk).update(superseded_by=old.pk)
        ballot.save()
        if old is not None:
            Ballot.objects.filter(pk=old.pk).update(superseded_by=ballot.pk)
        saved.append(ballot)
    vote.chain_head, vote.next_seq = prev, seq
    vote.save(update_fields=["chain_head", "next_seq"])
    return CastResult(ballots=saved, replaced=len(replaced), receipt=saved[0].hash)


def parts_and_counted(vote: Vote) -> tuple[list[Part], list[CountedBallot]]:
    # Tuples, not model instances: a 20,000-owner compound loads in a fraction of a second.
    rows = vote.parts.values_list("pk", "area", "owner_key", "developer_unsold")
    parts = [Part(str(pk), area, owner, unsold) for pk, area, owner, unsold in rows]
    choices = {choice.value: choice for choice in Choice}
    counted = [
        CountedBallot(str(part_id), choices[choice])
        for part_id, choice in vote.ballots.filter(superseded_by__isnull=True).values_list(
            "part_id", "choice"
        )
    ]
    return parts, counted


def vote_tally(vote: Vote) -> Tally:
    parts, counted = parts_and_counted(vote)
    return tally(parts, counted, Threshold(vote.threshold))


def tally_as_dict(result: Tally) -> dict[str, object]:
    return {
        "total_area": str(result.total_area),
        "total_headcount": result.total_headcount,
        "participating_area": str(result.participating_area),
        "participating_headcount": result.participating_headcount,
        "for_area": str(result.for_area),
        "for_headcount": result.for_headcount,
        "against_area": str(result.against_area),
        "against_headcount": result.against_headcount,
        "abstain_area": str(result.abstain_area),
        "abstain_headcount": result.abstain_headcount,
        "quorum_met": result.quorum_met,
        "passed": result.passed,
    }


EARLY_CLOSE_REASON_MIN = 10


@transaction.atomic
def vote_close(*, actor: Actor | None, vote_id: int, force: bool = False, reason: str = "") -> Vote:
    """Close a vote whose period has ended, tally and publish.

    Staff may stop voting early with `force`, but never silently: stopping a vote the moment its
    tally passes would decide the matter for the owners who have not voted yet. An early close needs
    a written reason, which the audit log keeps with the closing tally and the published record and
    result page show to everyone beside the actual closing time.
    """
    vote = _locked_vote(actor, vote_id)
    now = clock.now()
    early = now < vote.closes_at
    reason = (reason or "").strip()
    if early and not (force and actor is not None):
        raise BallotRefused(
            _("Voting is still open until %(closes)s.")
            % {"closes": clock.localtime(vote.closes_at).strftime("%Y-%m-%d %H:%M")}
        )
    if early and len(reason) < EARLY_CLOSE_REASON_MIN:
        message = _(
            "Say why voting closes before its time, in at least %(count)d characters: the reason is "
            "published with the result."
        ) % {"count": EARLY_CLOSE_REASON_MIN}
        raise ValidationFailed(message, extra={"fields": {"reason": message}})
    _transition(vote, VoteStatus.CLOSED)
    result = vote_tally(vote)
    vote.result = tally_as_dict(result) | {"chain_head": vote.chain_head}
    vote.closed_at = now
    vote.close_reason = reason[:1000] if early else ""
    vote.save(update_fields=["status", "result", "closed_at", "close_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=vote,
        node_path=vote.compound.path,
        field="status",
        reason=vote.close_reason,
        changes={
            "status": [VoteStatus.OPEN.value, VoteStatus.CLOSED.value],
            "passed": result.passed,
            "closed_at": chain.timestamp(now),
            "closes_at": chain.timestamp(vote.closes_at),
            "closed_early": early,
        },
    )
    return vote


def votes_close_due(*, now: dt.datetime | None = None) -> int:
    """The periodic job: close every open vote whose period has ended."""
    now = now or clock.now()
    closed = 0
    for vote_id in Vote.objects.filter(status=VoteStatus.OPEN, closes_at__lte=now).values_list(
        "pk", flat=True
    ):
        try:
            vote_close(actor=None, vote_id=vote_id)
            closed += 1
        except BallotRefused:
            continue
    return closed
