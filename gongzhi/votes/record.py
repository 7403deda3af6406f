"""The public record of a closed vote, and its verification from the file alone.

`verify_record` needs nothing but the record: it reads every field with its type checked (a
malformed value is reported with where it is and why it is wrong, never raised), recomputes the
chain from the genesis hash and the tally from the parts and counted ballots, with the same
`tally` and `chain` modules the server uses, checks that every ballot was cast within the voting
period (which ends early when staff closed voting before its time), and compares all of it with
what the record claims.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gongzhi.votes import chain
from gongzhi.votes.tally import DEVELOPER, Choice, CountedBallot, Part, Tally, TallyError, Threshold, tally

FORMAT = "gongzhi-vote-record/1"
AREA_FIELDS = ("total_area", "participating_area", "for_area")
HEADCOUNT_FIELDS = ("total_headcount", "participating_headcount", "for_headcount")
FLAG_FIELDS = ("quorum_met", "passed")
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
# Published too, and checked when present.
OPTIONAL_AREA_FIELDS = ("against_area", "abstain_area")
OPTIONAL_HEADCOUNT_FIELDS = ("against_headcount", "abstain_headcount")
MAX_PROBLEMS = 50  # a thoroughly broken file is not listed line by line

DECIMAL = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,6})?$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
ABSENT: Any = object()  # an optional key that is not in the record


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
    closed_at = vote.closed_at
    return {
        "format": FORMAT,
        "vote": {
            "id": vote.pk,
            "question": vote.question,
            "matter": vote.matter,
            "threshold": vote.threshold,
            "opens": vote.opens_at.isoformat(),
            "closes": vote.closes_at.isoformat(),  # the scheduled end of voting
            "closed_at": chain.timestamp(closed_at) if closed_at is not None else None,  # the actual end
            "closed_early": closed_at is not None and closed_at < vote.closes_at,
            "close_reason": vote.close_reason,
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


# --- Reading the file: every value checked, every fault named by where it is ----------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Reader:
    """Typed reads of JSON values; a wrong value adds "where: why" to `problems` and reads as None."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, why: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{where}: {why}")

    def get(self, container: dict[str, Any], key: str, where: str, *, required: bool = True) -> Any:
        """The value under `key`; ABSENT when an optional key is not there (null is a value)."""
        if key not in container:
            if required:
                self.fail(f"{where}.{key}" if where else key, "missing")
                return None
            return ABSENT
        return container[key]

    def obj(self, value: Any, where: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(where, f"expected an object, found {_kind(value)}")
            return None
        return value

    def items(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, f"expected a list, found {_kind(value)}")
            return []
        return value

    def text(self, value: Any, where: str, *, empty: bool = False) -> str | None:
        if not isinstance(value, str):
            self.fail(where, f"expected a string, found {_kind(value)}")
            return None
        if not empty and not value.strip():
            self.fail(where, "is empty")
            return None
        return value

    def integer(self, value: Any, where: str, *, minimum: int = 0) -> int | None:
        # JSON true/false are not numbers here, even though Python counts bool as int.
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"expected a whole number, found {_kind(value)}")
            return None
        if value < minimum:
            self.fail(where, f"expected a whole number of at least {minimum}, found {value}")
            return None
        return value

    def flag(self, value: Any, where: str) -> bool | None:
        # Strict: 0, 1, "false" or null are not booleans.
        if not isinstance(value, bool):
            shown = f" {value!r}" if isinstance(value, int | float | str) else ""
            self.fail(where, f"expected true or false, found {_kind(value)}{shown}")
            return None
        return value

    def decimal(self, value: Any, where: str, *, positive: bool = False) -> Decimal | None:
        if not isinstance(value, str):
            self.fail(where, f'expected a decimal string such as "88.50", found {_kind(value)} {value!r}')
            return None
        if not DECIMAL.match(value):
            self.fail(where, f"not a decimal number: {value[:40]!r}")
            return None
        number = Decimal(value)
        if positive and number <= 0:
            self.fail(where, f"must be more than 0, found {value!r}")
            return None
        return number

    def moment(self, value: Any, where: str) -> dt.datetime | None:
        if not isinstance(value, str):
            self.fail(where, f"expected a date and time (ISO 8601), found {_kind(value)}")
            return None
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            self.fail(where, f"not a date and time (ISO 8601): {value[:40]!r}")
            return None
        if moment.tzinfo is None:
            self.fail(where, f"a date and time without its time zone: {value[:40]!r}")
            return None
        return moment

    def digest(self, value: Any, where: str) -> str | None:
        if not isinstance(value, str) or not HEX64.match(value):
            shown = f"{value[:20]!r}" if isinstance(value, str) else _kind(value)
            self.fail(where, f"expected a SHA-256 hash (64 lowercase hex digits), found {shown}")
            return None
        return value

    def part_id(self, value: Any, where: str) -> str | None:
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            self.fail(where, f"expected a part id (a string), found {_kind(value)}")
            return None
        return str(value)


@dataclass
class _Vote:
    id: int
    question: str
    threshold: Threshold
    opens: dt.datetime
    closes: dt.datetime
    genesis: str | None
    closed_at: dt.datetime | None


@dataclass
class _Ballot:
    where: str
    entry: chain.Entry
    moment: dt.datetime


@dataclass
class _Record:
    vote: _Vote
    parts: list[Part]
    counted: list[_Ballot]
    superseded: list[_Ballot]
    claimed: dict[str, Any]  # the result's figures, each of the right type


def _read_vote(reader: _Reader, raw: Any) -> _Vote | None:
    vote = reader.obj(raw, "vote")
    if vote is None:
        return None
    number = reader.integer(reader.get(vote, "id", "vote"), "vote.id")
    question = reader.text(reader.get(vote, "question", "vote"), "vote.question", empty=True)
    threshold_raw = reader.get(vote, "threshold", "vote")
    threshold = None
    if threshold_raw is not None:
        if threshold_raw in Threshold.__members__.values():
            threshold = Threshold(threshold_raw)
        else:
            choices = " or ".join(f'"{t.value}"' for t in Threshold)
            reader.fail("vote.threshold", f"expected {choices}, found {threshold_raw!r}")
    opens = reader.moment(reader.get(vote, "opens", "vote"), "vote.opens")
    closes = reader.moment(reader.get(vote, "closes", "vote"), "vote.closes")
    if opens is not None and closes is not None and closes <= opens:
        reader.fail("vote.closes", "voting closes before it opens")
    genesis_raw = reader.get(vote, "genesis", "vote", required=False)
    genesis = reader.digest(genesis_raw, "vote.genesis") if genesis_raw is not ABSENT else None
    closed_at = _read_closing(reader, vote, closes)
    if None in (number, question, threshold, opens, closes):
        return None
    assert number is not None and question is not None and threshold is not None
    assert opens is not None and closes is not None
    return _Vote(number, question, threshold, opens, closes, genesis, closed_at)


def _read_closing(reader: _Reader, vote: dict[str, Any], closes: dt.datetime | None) -> dt.datetime | None:
    """The actual end of voting (optional: records of votes closed before it was published lack it)."""
    raw = reader.get(vote, "closed_at", "vote", required=False)
    closed_at = reader.moment(raw, "vote.closed_at") if raw is not ABSENT else None
    early_raw = reader.get(vote, "closed_early", "vote", required=False)
    early = reader.flag(early_raw, "vote.closed_early") if early_raw is not ABSENT else None
    reason_raw = reader.get(vote, "close_reason", "vote", required=False)
    reason = reader.text(reason_raw, "vote.close_reason", empty=True) if reason_raw is not ABSENT else ""
    if early_raw is not ABSENT and raw is ABSENT:
        reader.fail("vote.closed_early", "given without vote.closed_at")
    if closed_at is not None and closes is not None:
        actually_early = closed_at < closes
        if early is not None and early is not actually_early:
            reader.fail(
                "vote.closed_early",
                f"says {str(early).lower()}, but voting closed at {raw} and was to close at {closes.isoformat()}",
            )
        if actually_early and not (reason or "").strip():
            reader.fail("vote.close_reason", "voting was closed before its time and no reason is given")
    return closed_at


def _read_parts(reader: _Reader, raw: Any) -> list[Part]:
    parts: list[Part] = []
    seen: set[str] = set()
    for index, item in enumerate(reader.items(raw, "parts")):
        where = f"parts[{index}]"
        part = reader.obj(item, where)
        if part is None:
            continue
        number = reader.part_id(reader.get(part, "id", where), f"{where}.id")
        area = reader.decimal(reader.get(part, "area", where), f"{where}.area", positive=True)
        owner = reader.text(reader.get(part, "owner", where), f"{where}.owner")
        unsold = reader.flag(reader.get(part, "developer_unsold", where), f"{where}.developer_unsold")
        if number is not None and number in seen:
            reader.fail(f"{where}.id", f"part {number} is listed twice")
            continue
        if number is None or area is None or owner is None or unsold is None:
            continue
        if unsold != (owner == DEVELOPER):
            # The developer's unsold parts, and only they, carry the owner "developer".
            reader.fail(
                f"{where}.developer_unsold",
                f'is {str(unsold).lower()} for a part whose owner is {owner!r} (unsold parts belong to "{DEVELOPER}")',
            )
            continue
        seen.add(number)
        parts.append(Part(id=number, area=area, owner=owner, developer_unsold=unsold))
    return parts


def _read_ballots(reader: _Reader, raw: Any, name: str, known_parts: set[str] | None) -> list[_Ballot]:
    ballots: list[_Ballot] = []
    choices = " or ".join(f'"{c.value}"' for c in Choice)
    for index, item in enumerate(reader.items(raw, name)):
        where = f"{name}[{index}]"
        entry = reader.obj(item, where)
        if entry is None:
            continue
        seq = reader.integer(reader.get(entry, "seq", where), f"{where}.seq", minimum=1)
        part = reader.part_id(reader.get(entry, "part", where), f"{where}.part")
        choice = reader.get(entry, "choice", where)
        if choice is not None and choice not in Choice.__members__.values():
            reader.fail(f"{where}.choice", f"expected {choices}, found {choice!r}")
            choice = None
        cast_raw = reader.get(entry, "cast_at", where)
        moment = reader.moment(cast_raw, f"{where}.cast_at")
        digest = reader.digest(reader.get(entry, "hash", where), f"{where}.hash")
        prev = reader.digest(reader.get(entry, "prev", where), f"{where}.prev")
        if part is not None and known_parts is not None and part not in known_parts:
            reader.fail(f"{where}.part", f"no part {part} in the record's parts")
        if seq is None or part is None or choice is None or moment is None or digest is None or prev is None:
            continue
        label = f"ballot #{seq}"
        ballots.append(_Ballot(label, chain.Entry(seq, part, choice, cast_raw, digest, prev), moment))
    return ballots


def _read_result(reader: _Reader, raw: Any) -> dict[str, Any] | None:
    result = reader.obj(raw, "result")
    if result is None:
        return None
    claimed: dict[str, Any] = {}
    for name in AREA_FIELDS + OPTIONAL_AREA_FIELDS:
        value = reader.get(result, name, "result", required=name in AREA_FIELDS)
        if value is not ABSENT:
            claimed[name] = reader.decimal(value, f"result.{name}")
    for name in HEADCOUNT_FIELDS + OPTIONAL_HEADCOUNT_FIELDS:
        value = reader.get(result, name, "result", required=name in HEADCOUNT_FIELDS)
        if value is not ABSENT:
            claimed[name] = reader.integer(value, f"result.{name}")
    for name in FLAG_FIELDS:
        claimed[name] = reader.flag(reader.get(result, name, "result"), f"result.{name}")
    claimed["chain_head"] = reader.digest(reader.get(result, "chain_head", "result"), "result.chain_head")
    return claimed


def _read(record: Any) -> tuple[_Record | None, list[str]]:
    reader = _Reader()
    if not isinstance(record, dict):
        reader.fail("the record", f"expected a JSON object, found {_kind(record)}")
        return None, reader.problems
    vote = _read_vote(reader, reader.get(record, "vote", ""))
    parts = _read_parts(reader, reader.get(record, "parts", ""))
    known = {p.id for p in parts}
    counted = _read_ballots(reader, reader.get(record, "ballots", ""), "ballots", known)
    superseded_raw = reader.get(record, "superseded", "", required=False)
    superseded = (
        _read_ballots(reader, superseded_raw, "superseded", known) if superseded_raw is not ABSENT else []
    )
    claimed = _read_result(reader, reader.get(record, "result", ""))
    if reader.problems or vote is None or claimed is None:
        return None, reader.problems
    return _Record(vote, parts, counted, superseded, claimed), []


# --- Checking what was read -----------------------------------------------------------------------


def _check_chain(record: _Record) -> tuple[list[str], str]:
    problems: list[str] = []
    vote = record.vote
    genesis = chain.genesis(vote.id, vote.question)
    if vote.genesis is not None and vote.genesis != genesis:
        problems.append("vote.genesis: the genesis hash does not match the vote's id and question")
    entries = [b.entry for b in record.counted + record.superseded]
    seqs = [e.seq for e in entries]
    if len(seqs) != len(set(seqs)):
        problems.append("ballots: the same ballot number appears more than once")
    head, chain_problems = chain.verify_chain(genesis, entries)
    problems += chain_problems
    claimed_head = record.claimed["chain_head"]
    if claimed_head != head:
        problems.append(
            f"result.chain_head: the published chain head {claimed_head[:12]}… is not the chain's end {head[:12]}…"
        )
    counted_seqs = [b.entry.seq for b in record.counted]
    if counted_seqs != sorted(counted_seqs):
        problems.append("ballots: the counted ballots are not in chain order")
    # A counted ballot must be its part's latest entry: a later entry for the same part replaces it.
    latest: dict[str, int] = {}
    for entry in sorted(entries, key=lambda e: e.seq):
        latest[entry.part] = entry.seq
    for ballot in record.counted:
        if latest.get(ballot.entry.part) != ballot.entry.seq:
            problems.append(f"{ballot.where} is counted although a later ballot replaced it")
    for ballot in record.superseded:
        if latest.get(ballot.entry.part) == ballot.entry.seq:
            problems.append(f"{ballot.where} is set aside although it is its part's latest ballot")
    return problems, head


def _check_period(record: _Record) -> list[str]:
    """Every ballot was cast within the voting period: from `opens`, before `closes`, and no later
    than the actual close when staff closed voting early."""
    vote = record.vote
    end = vote.closes if vote.closed_at is None else min(vote.closes, vote.closed_at)
    problems = []
    for ballot in record.counted + record.superseded:
        moment = ballot.moment
        outside = moment < vote.opens or moment >= vote.closes
        if vote.closed_at is not None and moment > vote.closed_at:
            outside = True
        if outside:
            problems.append(
                f"{ballot.where}: cast at {ballot.entry.cast_at}, outside the voting period "
                f"{vote.opens.isoformat()} – {end.isoformat()}"
            )
    return problems


def _figures(result: Tally) -> dict[str, Any]:
    return {
        "total_area": result.total_area,
        "total_headcount": result.total_headcount,
        "participating_area": result.participating_area,
        "participating_headcount": result.participating_headcount,
        "for_area": result.for_area,
        "for_headcount": result.for_headcount,
        "against_area": result.against_area,
        "against_headcount": result.against_headcount,
        "abstain_area": result.abstain_area,
        "abstain_headcount": result.abstain_headcount,
        "quorum_met": result.quorum_met,
        "passed": result.passed,
    }


def _shown(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def verify_record(record: Any) -> Verification:
    """Check a published record from the file alone; never raises on bad input."""
    read, problems = _read(record)
    if read is None:
        return Verification(ok=False, problems=problems)
    chain_problems, _head = _check_chain(read)
    problems = chain_problems + _check_period(read)
    try:
        result = tally(
            read.parts,
            [CountedBallot(part=b.entry.part, choice=Choice(b.entry.choice)) for b in read.counted],
            read.vote.threshold,
        )
    except TallyError as error:
        problems.append(f"ballots: they cannot be counted: {error}")
        return Verification(ok=False, problems=problems)
    mine = _figures(result)
    for name, theirs in read.claimed.items():
        if name == "chain_head":
            continue
        ours = mine[name]
        # Same type already checked: booleans compare as booleans, areas as exact decimals.
        same = theirs is ours if isinstance(ours, bool) else theirs == ours
        if not same:
            problems.append(
                f"result.{name}: the record says {_shown(theirs)!r}, the ballots give {_shown(ours)!r}"
            )
    recomputed = {name: _shown(value) for name, value in mine.items() if name in RESULT_FIELDS}
    return Verification(ok=not problems, problems=problems, recomputed=recomputed)
