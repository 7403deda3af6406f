"""`verify_record` and `gongzhi vote-verify` on records built without a database: a sound record
verifies; a ballot outside the voting period, a false claim about closing early, and every kind of
malformed value are reported with where and why (exit 1), never with a traceback."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.cli import main
from gongzhi.votes import chain
from gongzhi.votes.record import verify_record
from gongzhi.votes.services import tally_as_dict
from gongzhi.votes.tally import Choice, CountedBallot, Part, Threshold, tally

OPENS = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
CLOSES = dt.datetime(2026, 3, 16, 0, 0, tzinfo=dt.UTC)
PARTS = [("1", "90.00", "o-a", False), ("2", "90.00", "o-a", False), ("3", "60.00", "o-b", False)]
PARTS += [("4", "60.00", "o-c", False), ("5", "80.00", "developer", True)]


def make_record(
    casts: list[tuple[str, str, dt.datetime]] | None = None,
    *,
    closed_at: dt.datetime | None = CLOSES,
    reason: str = "",
) -> dict[str, Any]:
    """A record as the server publishes it: `casts` are (owner, choice, when), in order; a later cast
    of the same owner replaces the earlier on all their parts."""
    casts = (
        casts
        if casts is not None
        else [
            ("o-a", "for", OPENS + dt.timedelta(hours=1)),
            ("o-b", "against", OPENS + dt.timedelta(hours=2)),
            ("o-a", "against", OPENS + dt.timedelta(hours=3)),
            ("developer", "for", OPENS + dt.timedelta(hours=4)),
            ("o-a", "for", OPENS + dt.timedelta(hours=5)),
        ]
    )
    question = "是否同意集中供暖改造"
    genesis = chain.genesis(7, question)
    prev, seq, entries = genesis, 1, []
    for owner, choice, moment in casts:
        for part_id, _area, key, _unsold in PARTS:
            if key != owner:
                continue
            stamp = chain.timestamp(moment)
            digest = chain.entry_hash(prev, seq, part_id, choice, stamp)
            entries.append(
                {
                    "seq": seq,
                    "part": part_id,
                    "choice": choice,
                    "cast_at": stamp,
                    "hash": digest,
                    "prev": prev,
                }
            )
            prev, seq = digest, seq + 1
    latest = {e["part"]: e["seq"] for e in entries}
    counted = [e for e in entries if latest[e["part"]] == e["seq"]]
    superseded = [e | {"superseded_by": 0} for e in entries if latest[e["part"]] != e["seq"]]
    parts = [Part(i, Decimal(a), k, u) for i, a, k, u in PARTS]
    result = tally(
        parts, [CountedBallot(e["part"], Choice(e["choice"])) for e in counted], Threshold.THREE_QUARTERS
    )
    return {
        "format": "gongzhi-vote-record/1",
        "vote": {
            "id": 7,
            "question": question,
            "matter": "rebuild",
            "threshold": "three_quarters",
            "opens": OPENS.isoformat(),
            "closes": CLOSES.isoformat(),
            "closed_at": chain.timestamp(closed_at) if closed_at else None,
            "closed_early": bool(closed_at and closed_at < CLOSES),
            "close_reason": reason,
            "compound": "鼓楼花园",
            "genesis": genesis,
        },
        "parts": [{"id": i, "area": a, "owner": k, "developer_unsold": u} for i, a, k, u in PARTS],
        "ballots": counted,
        "superseded": superseded,
        "result": tally_as_dict(result) | {"chain_head": prev},
    }


def problems(record: Any) -> list[str]:
    verification = verify_record(record)
    assert not verification.ok
    return verification.problems


def test_a_sound_record_verifies_with_every_figure_recomputed() -> None:
    verification = verify_record(make_record())
    assert verification.ok, verification.problems
    # 王 (parts 1, 2: 180 m²) for, 李 (60) against, the developer (80) for; 赵 (60) did not vote.
    assert verification.recomputed == {
        "total_area": "380.00",
        "total_headcount": 4,
        "participating_area": "320.00",
        "participating_headcount": 3,
        "for_area": "260.00",
        "for_headcount": 2,
        "quorum_met": True,
        "passed": False,
    }


# --- The voting period ----------------------------------------------------------------------------


def test_a_ballot_cast_after_an_early_close_is_found() -> None:
    closed = OPENS + dt.timedelta(hours=4, minutes=30)
    record = make_record(closed_at=closed, reason="业主大会决定暂停表决")
    found = problems(record)
    assert found == [
        "ballot #7: cast at 2026-03-02T05:00:00.000000Z, outside the voting period "
        "2026-03-02T00:00:00+00:00 – 2026-03-02T04:30:00+00:00",
        "ballot #8: cast at 2026-03-02T05:00:00.000000Z, outside the voting period "
        "2026-03-02T00:00:00+00:00 – 2026-03-02T04:30:00+00:00",
    ]


def test_ballots_before_opening_or_at_the_scheduled_close_are_found() -> None:
    early = make_record([("o-b", "for", OPENS - dt.timedelta(seconds=1))])
    assert any("ballot #1: cast at 2026-03-01T23:59:59" in p for p in problems(early))
    late = make_record([("o-b", "for", CLOSES)], closed_at=CLOSES + dt.timedelta(minutes=1))
    assert any("ballot #1" in p and "outside the voting period" in p for p in problems(late))
    on_time = make_record([("o-b", "for", CLOSES - dt.timedelta(microseconds=1))])
    assert verify_record(on_time).ok


def test_a_ballot_cast_in_the_same_instant_as_the_close_counts() -> None:
    closed = OPENS + dt.timedelta(hours=5)
    assert verify_record(make_record(closed_at=closed, reason="业主大会决定暂停表决")).ok


def test_closing_early_must_be_told_truthfully_and_with_a_reason() -> None:
    closed = OPENS + dt.timedelta(days=2)
    record = make_record(closed_at=closed, reason="")
    assert problems(record) == ["vote.close_reason: voting was closed before its time and no reason is given"]
    record = make_record(closed_at=closed, reason="业主大会决定暂停表决")
    record["vote"]["closed_early"] = False
    assert problems(record)[0].startswith("vote.closed_early: says false, but voting closed at 2026-03-04")
    record = make_record()
    del record["vote"]["closed_at"]
    assert problems(record) == ["vote.closed_early: given without vote.closed_at"]


def test_records_without_the_closing_fields_still_verify() -> None:
    record = make_record()
    for name in ("closed_at", "closed_early", "close_reason"):
        del record["vote"][name]
    assert verify_record(record).ok


# --- Malformed values: where and why ------------------------------------------------------------


def _set(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target: Any = record
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    for key in keys[:-1]:
        target = target[key]
    if value is DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return record


DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("parts.0.area", "ninety", "parts[0].area: not a decimal number: 'ninety'"),
        (
            "parts.0.area",
            90.5,
            'parts[0].area: expected a decimal string such as "88.50", found a number 90.5',
        ),
        ("parts.0.area", "1e3", "parts[0].area: not a decimal number: '1e3'"),
        ("parts.0.area", "NaN", "parts[0].area: not a decimal number: 'NaN'"),
        ("parts.0.area", "0.00", "parts[0].area: must be more than 0, found '0.00'"),
        (
            "parts.2.developer_unsold",
            0,
            "parts[2].developer_unsold: expected true or false, found a number 0",
        ),
        (
            "parts.2.developer_unsold",
            "false",
            "parts[2].developer_unsold: expected true or false, found a string 'false'",
        ),
        (
            "parts.4.developer_unsold",
            False,
            "parts[4].developer_unsold: is false for a part whose owner is 'developer'",
        ),
        (
            "parts.0.developer_unsold",
            True,
            "parts[0].developer_unsold: is true for a part whose owner is 'o-a'",
        ),
        ("parts.1", DELETE, "ballots[3].part: no part 2 in the record's parts"),
        ("parts.1.owner", DELETE, "parts[1].owner: missing"),
        ("parts", {"1": "90.00"}, "parts: expected a list, found an object"),
        ("result", [1, 2], "result: expected an object, found a list"),
        ("result.passed", 0, "result.passed: expected true or false, found a number 0"),
        ("result.quorum_met", 1, "result.quorum_met: expected true or false, found a number 1"),
        ("result.passed", None, "result.passed: expected true or false, found null"),
        ("result.for_headcount", True, "result.for_headcount: expected a whole number, found true"),
        ("result.for_headcount", "2", "result.for_headcount: expected a whole number, found a string"),
        (
            "result.total_area",
            380,
            'result.total_area: expected a decimal string such as "88.50", found a number 380',
        ),
        ("result.chain_head", DELETE, "result.chain_head: missing"),
        (
            "result.chain_head",
            "",
            "result.chain_head: expected a SHA-256 hash (64 lowercase hex digits), found ''",
        ),
        ("result.participating_area", DELETE, "result.participating_area: missing"),
        ("vote", DELETE, "vote: missing"),
        ("vote", "7", "vote: expected an object, found a string"),
        ("vote.id", "7", "vote.id: expected a whole number, found a string"),
        (
            "vote.threshold",
            "two_thirds",
            'vote.threshold: expected "three_quarters" or "more_than_half", found \'two_thirds\'',
        ),
        ("vote.threshold", ["three_quarters"], "vote.threshold: expected"),
        ("vote.opens", "next Monday", "vote.opens: not a date and time (ISO 8601): 'next Monday'"),
        ("vote.opens", "2026-03-02T00:00:00", "vote.opens: a date and time without its time zone"),
        ("vote.closes", "2026-03-01T00:00:00+00:00", "vote.closes: voting closes before it opens"),
        ("vote.closed_at", 1772409600, "vote.closed_at: expected a date and time (ISO 8601), found a number"),
        ("ballots", None, "ballots: expected a list, found null"),
        ("ballots.0", "for", "ballots[0]: expected an object, found a string"),
        ("ballots.0.seq", "1", "ballots[0].seq: expected a whole number, found a string"),
        ("ballots.0.seq", True, "ballots[0].seq: expected a whole number, found true"),
        ("ballots.0.seq", 0, "ballots[0].seq: expected a whole number of at least 1, found 0"),
        (
            "ballots.0.choice",
            "yes",
            'ballots[0].choice: expected "for" or "against" or "abstain", found \'yes\'',
        ),
        ("ballots.0.choice", {"for": 1}, "ballots[0].choice: expected"),
        ("ballots.0.cast_at", None, "ballots[0].cast_at: expected a date and time (ISO 8601), found null"),
        (
            "ballots.0.hash",
            "abc",
            "ballots[0].hash: expected a SHA-256 hash (64 lowercase hex digits), found 'abc'",
        ),
        ("ballots.0.prev", DELETE, "ballots[0].prev: missing"),
        ("superseded", 3, "superseded: expected a list, found a number"),
    ],
)
def test_a_malformed_value_is_reported_with_where_and_why(path: str, value: Any, expected: str) -> None:
    record = _set(make_record(), path, value)
    found = problems(record)
    assert any(p.startswith(expected) for p in found), found


def test_a_record_that_is_not_an_object_is_reported() -> None:
    assert problems([1, 2]) == ["the record: expected a JSON object, found a list"]
    assert problems(None) == ["the record: expected a JSON object, found null"]


def test_a_part_listed_twice_is_reported() -> None:
    record = make_record()
    record["parts"].append(dict(record["parts"][0]))
    assert "parts[5].id: part 1 is listed twice" in problems(record)


def test_an_owner_with_two_choices_cannot_be_counted() -> None:
    record = make_record([("o-a", "for", OPENS + dt.timedelta(hours=1))])
    entry = record["ballots"][1]
    entry["choice"] = "against"
    # Rehash the whole chain so only the tally can object.
    prev = record["vote"]["genesis"]
    for e in record["ballots"]:
        e["prev"] = prev
        e["hash"] = prev = chain.entry_hash(prev, e["seq"], e["part"], e["choice"], e["cast_at"])
    record["result"]["chain_head"] = prev
    assert problems(record) == [
        "ballots: they cannot be counted: owner o-a has different choices on different parts"
    ]


# --- Any damage, never a traceback --------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


SOUND = make_record()
PATHS = _paths(SOUND)
OPTIONAL = {"genesis", "closed_early", "close_reason", "against_area", "against_headcount", "abstain_area"}
OPTIONAL |= {"abstain_headcount"}
VOTED_PARTS = {e["part"] for e in SOUND["ballots"] + SOUND["superseded"]}


def _renames_a_lone_owner(original: str, value: Any) -> bool:
    owners = [p["owner"] for p in SOUND["parts"]]
    return (
        owners.count(original) == 1 and isinstance(value, str) and value.strip() != "" and value not in owners
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), JSON_VALUES, st.booleans())
def test_any_damage_is_reported_never_raised(path: tuple[Any, ...], value: Any, delete: bool) -> None:
    record = copy.deepcopy(SOUND)
    target: Any = record
    for key in path[:-1]:
        target = target[key]
    original = target[path[-1]]
    if delete and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = value
    verification = verify_record(record)
    if verification.ok:
        # Only a harmless change verifies: an unchanged value (True == 1 is not the same value here),
        # a field the verifier does not need, an optional one left out, another reason for a vote
        # that was not closed early, another id for a part nobody voted for, or another pseudonym
        # for an owner of one part.
        deleted = delete and isinstance(target, dict)
        unchanged = not deleted and type(value) is type(original) and value == original
        assert (
            unchanged
            or path[-1] in {"format", "matter", "compound", "superseded_by"}
            or (deleted and path[-1] in OPTIONAL)
            or (path == ("vote", "close_reason") and isinstance(value, str))
            or (path[0] == "parts" and path[-1] == "id" and original not in VOTED_PARTS)
            or (path[0] == "parts" and path[-1] == "owner" and _renames_a_lone_owner(original, value))
        ), (path, value, deleted)
    for problem in verification.problems:
        assert ": " in problem or problem.startswith("ballot #"), problem


# --- The command ---------------------------------------------------------------------------------


def _run(tmp_path: Path, content: str | bytes, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    file = tmp_path / "record.json"
    if isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content, encoding="utf-8")
    code = main(["vote-verify", str(file)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_command_says_verified_and_exits_0(tmp_path: Path, capsys) -> None:
    closed = OPENS + dt.timedelta(days=1)
    record = make_record(closed_at=closed, reason="业主大会决定暂停表决")
    code, output = _run(tmp_path, json.dumps(record, ensure_ascii=False), capsys)
    assert code == 0, output
    assert "VERIFIED: vote 7" in output
    assert "closed early: 业主大会决定暂停表决" in output and "every ballot cast within it" in output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"vote": ', "not a JSON file: Expecting value: line 1 column 10"),
        (b"\xff\xfe{}", "not a JSON file"),
        ("[" * 100_000 + "]" * 100_000, "not a JSON file"),
        ("[]", "the record: expected a JSON object, found a list"),
        ('{"vote": {}, "parts": [], "ballots": [], "result": {}}', "vote.id: missing"),
        ("1" * 5000, "not a JSON file"),
    ],
)
def test_the_command_reports_an_unreadable_file_and_exits_1(
    tmp_path: Path, capsys, content: str | bytes, expected: str
) -> None:
    code, output = _run(tmp_path, content, capsys)
    assert code == 1
    assert "NOT VERIFIED" in output and expected in output, output
    assert "Traceback" not in output


def test_the_command_reports_a_malformed_record_with_where_and_why(tmp_path: Path, capsys) -> None:
    record = make_record()
    record["parts"][0]["area"] = "九十"
    record["result"] = ["passed"]
    code, output = _run(tmp_path, json.dumps(record), capsys)
    assert code == 1
    assert "  - parts[0].area: not a decimal number: '九十'" in output
    assert "  - result: expected an object, found a list" in output


def test_the_command_exits_1_on_a_missing_file_and_2_on_wrong_usage(tmp_path: Path, capsys) -> None:
    assert main(["vote-verify", str(tmp_path / "missing.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["vote-verify"]) == 2
