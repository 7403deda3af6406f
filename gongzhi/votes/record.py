"""The public record of a closed vote, and its verification from the file alone.

`verify_record` needs nothing but the record: it recomputes the chain from the genesis hash and
the tally from the parts and counted ballots, with the same `tally` and `chain` modules the server
uses, and compares both with what the record claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from gongzhi.votes import chain
from gongzhi.votes.tally import Choice, CountedBallot, Part, TallyError, Threshold, tally

FORMAT = "gongzhi-vote-record/1"
RESULT_FIELDS = (
    "total_area",
    "total_headcount",
    "participating_area",
    "participating_headcount",
    "for_area",
    "for_headcount",
    "quorum_met",
    "passed",
)


def _entry(ballot: Any) -> dict[str, Any]:
    return {
        "seq": ballot.seq,
        "part": str(ballot.part_id),
        "choice": ballot.choice,
        "cast_at": chain.timestamp(ballot.cast_at),
        "hash": ballot.hash,
        "prev": ballot.prev,
    }


def vote_record(vote: Any) -> dict[str, Any]:
    """The record of a closed vote (a `Vote` with its parts and ballots)."""
    ballots = list(vote.ballots.order_by("seq"))
    return {
        "format": FORMAT,
        "vote": {
            "id": vote.pk,
            "question": vote.question,
            "matter": vote.matter,
            "threshold": vote.threshold,
            "opens": vote.opens_at.isoformat(),
            "closes": vote.closes_at.isoformat(),
            "compound": vote.compound.name,
            "genesis": vote.genesis,
        },
        "parts": [
            {
                "id": str(p.pk),
                "area": str(p.area),
                "owner": p.owner_key,
                "developer_unsold": p.developer_unsold,
            }
            for p in vote.parts.order_by("pk")
        ],
        "ballots": [_entry(b) for b in ballots if b.superseded_by_id is None],
        "superseded": [
            _entry(b) | {"superseded_by": b.superseded_by_id} for b in ballots if b.superseded_by_id
        ],
        "result": dict(vote.result),
    }


@dataclass
class Verification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    recomputed: dict[str, Any] = field(default_factory=dict)


def _decimal(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{where}: not a decimal: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{where}: not a finite decimal")
    return number


def verify_record(record: dict[str, Any]) -> Verification:
    problems: list[str] = []
    try:
        vote = record["vote"]
        parts = [
            Part(
                id=str(p["id"]),
                area=_decimal(p["area"], f"part {p['id']}"),
                owner=str(p["owner"]),
                developer_unsold=bool(p.get("developer_unsold", False)),
            )
            for p in record["parts"]
        ]
        counted = list(record["ballots"])
        superseded = list(record.get("superseded", []))
        claimed = record["result"]
        threshold = Threshold(vote["threshold"])
    except (KeyError, TypeError, ValueError) as error:
        return Verification(ok=False, problems=[f"the record is malformed: {error}"])

    genesis = chain.genesis(vote["id"], vote["question"])
    if vote.get("genesis") and vote["genesis"] != genesis:
        problems.append("the genesis hash does not match the vote's id and question")
    try:
        entries = [
            chain.Entry(
                seq=int(e["seq"]),
                part=str(e["part"]),
                choice=str(e["choice"]),
                cast_at=str(e["cast_at"]),
                hash=str(e["hash"]),
                prev=str(e["prev"]),
            )
            for e in counted + superseded
        ]
    except (KeyError, TypeError, ValueError) as error:
        return Verification(ok=False, problems=[f"a ballot is malformed: {error}"])
    head, chain_problems = chain.verify_chain(genesis, entries)
    problems += chain_problems
    if claimed.get("chain_head") and claimed["chain_head"] != head:
        problems.append(
            f"the published chain head {claimed['chain_head'][:12]}… is not the chain's end {head[:12]}…"
        )
    counted_seqs = [int(e["seq"]) for e in counted]
    if counted_seqs != sorted(counted_seqs):
        problems.append("the counted ballots are not in chain order")
    # A counted ballot must be its part's latest entry: a later entry for the same part replaces it.
    latest: dict[str, int] = {}
    for entry in sorted(entries, key=lambda e: e.seq):
        latest[entry.part] = entry.seq
    for e in counted:
        if latest.get(str(e["part"])) != int(e["seq"]):
            problems.append(f"ballot #{e['seq']} is counted although a later ballot replaced it")
    for e in superseded:
        if latest.get(str(e["part"])) == int(e["seq"]):
            problems.append(f"ballot #{e['seq']} is set aside although it is its part's latest ballot")
    try:
        result = tally(
            parts,
            [CountedBallot(part=str(e["part"]), choice=Choice(e["choice"])) for e in counted],
            threshold,
        )
    except (TallyError, ValueError) as error:
        problems.append(f"the ballots cannot be counted: {error}")
        return Verification(ok=False, problems=problems)
    recomputed = {
        "total_area": str(result.total_area),
        "total_headcount": result.total_headcount,
        "participating_area": str(result.participating_area),
        "participating_headcount": result.participating_headcount,
        "for_area": str(result.for_area),
        "for_headcount": result.for_headcount,
        "quorum_met": result.quorum_met,
        "passed": result.passed,
    }
    for name in RESULT_FIELDS:
        mine, theirs = recomputed[name], claimed.get(name)
        same = (
            _decimal(theirs, name) == _decimal(mine, name)
            if name.endswith("_area") and theirs is not None
            else theirs == mine
        )
        if not same:
            problems.append(f"result.{name}: the record says {theirs!r}, the ballots give {mine!r}")
    return Verification(ok=not problems, problems=problems, recomputed=recomputed)
