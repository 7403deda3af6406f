"""The ballot chain: each ballot entry is hashed together with the hash before it, so changing,
removing or reordering any ballot changes every later hash and the published head.

hash = SHA-256 of "prev|seq|part|choice|cast_at" (UTF-8, hex). The chain starts from the vote's
genesis hash, SHA-256 of "gongzhi-vote|<vote id>|<question>". Replaced ballots stay in the chain
(the record lists them apart, as `superseded`), so the chain verifies whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


def timestamp(moment: dt.datetime) -> str:
    """The cast time as hashed and published: UTC, microseconds, a trailing Z."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def genesis(vote_id: int | str, question: str) -> str:
    return hashlib.sha256(f"gongzhi-vote|{vote_id}|{question}".encode()).hexdigest()


def entry_hash(prev: str, seq: int, part: str, choice: str, cast_at: str) -> str:
    return hashlib.sha256(f"{prev}|{seq}|{part}|{choice}|{cast_at}".encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    seq: int
    part: str
    choice: str
    cast_at: str
    hash: str
    prev: str


def verify_chain(start: str, entries: Iterable[Entry]) -> tuple[str, list[str]]:
    """Walk the entries in seq order; return the head and the problems found (empty when sound)."""
    problems: list[str] = []
    prev = start
    expected_seq = 1
    for entry in sorted(entries, key=lambda e: e.seq):
        if entry.seq != expected_seq:
            problems.append(
                f"ballot #{entry.seq}: expected #{expected_seq} (a ballot is missing or repeated)"
            )
            expected_seq = entry.seq
        if entry.prev != prev:
            problems.append(f"ballot #{entry.seq}: prev does not match the hash of the ballot before it")
        recomputed = entry_hash(entry.prev, entry.seq, entry.part, entry.choice, entry.cast_at)
        if recomputed != entry.hash:
            problems.append(
                f"ballot #{entry.seq}: its hash does not match its contents (changed after casting)"
            )
        prev = entry.hash
        expected_seq += 1
    return prev, problems
