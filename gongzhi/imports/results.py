"""What an import reports: the errors of every bad row, or the counts of what it wrote."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

# A source of rows: (row number as Excel shows it, {column key: raw cell value}).
Row = tuple[int, dict[str, Any]]
Rows = Iterable[Row]
# Called with (phase, done, total) while an import runs.
Progress = Callable[[str, int, int], None]

# A whole-file problem (bad header, unreadable file) is reported on row 0.
FILE_ROW = 0


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportResult:
    """`errors` empty means the import was written (or would be, for a dry run)."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict[str, Any]:
        return {"rows": self.rows, **{name: asdict(counts) for name, counts in self.counts.items()}}

    def sorted_errors(self) -> list[RowError]:
        return sorted(self.errors, key=lambda error: error.row)


def no_progress(phase: str, done: int, total: int) -> None:
    return None
