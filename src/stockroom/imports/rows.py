"""Reading an import file: CSV with a header row, streamed one record at a time.

Line numbers are the file's own (the header is line 1; a record spanning several lines
because of a quoted line break is numbered by its first line), so an error points at the
line a person sees in an editor. The file is UTF-8, with or without a byte order mark
(as spreadsheets save it).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from stockroom.errors import ValidationFailed, field_error

# What the caller is told as the work goes on: a stage ("reading", "checking", "writing"),
# how far it is, and out of how much (None when not known).
Progress = Callable[[str, int, int | None], None]

# Past this many errors reading stops: the file is plainly not the expected one.
MAX_ERRORS = 100_000
# How often (in records) reading reports its progress.
PROGRESS_EVERY = 2_000


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem with the file, at a line of it."""

    line: int
    message: str

    def as_json(self) -> dict[str, int | str]:
        return {"line": self.line, "message": self.message}


class TooManyErrors(Exception):
    """Raised by ErrorList.add past MAX_ERRORS, to stop the checking."""


class ErrorList(list[RowError]):
    """The errors found so far; one past MAX_ERRORS stops the checking (`truncated`)."""

    truncated = False

    def add(self, line: int, message: str) -> None:
        if self.truncated:
            raise TooManyErrors
        if len(self) >= MAX_ERRORS:
            self.truncated = True
            self.append(RowError(line, f"more than {MAX_ERRORS} errors: stopped checking here"))
            raise TooManyErrors
        self.append(RowError(line, message))

    def copy(self) -> ErrorList:
        copied = ErrorList(self)
        copied.truncated = self.truncated
        return copied


class ImportRejected(ValidationFailed):
    """The file has errors (all of them in `errors`, by line); nothing was imported."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.line)
        truncated = isinstance(errors, ErrorList) and errors.truncated
        count = f"more than {MAX_ERRORS}" if truncated else str(len(self.errors))
        super().__init__(
            f"{count} error(s) in the file; nothing was imported.",
            [field_error(f"line {e.line}", e.message) for e in self.errors[:100]],
        )


def read_records(
    path: Path,
    columns: Sequence[str],
    required: Sequence[str],
    errors: ErrorList,
    progress: Progress | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield `(line, {column: stripped value})` for each record after the header.

    The header must name every `required` column, and only known `columns` (any order, any
    case); a missing column's cells read as "". Header problems are reported at line 1 and
    end the reading. Blank lines are skipped.
    """
    total = path.stat().st_size
    with path.open("rb") as raw:
        # Bytes that are not UTF-8 become lone surrogates, found record by record below, so
        # they are reported at their own line (a decoding error would name a whole buffer).
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            errors.add(1, f"the header cannot be read: {exc}")
            return
        if header is not None and _undecodable(header):
            errors.add(1, _NOT_UTF8)
            return
        if header is None:
            errors.add(
                1, f"the file is empty; the first line must name the columns ({_list(columns)})"
            )
            return
        positions = _header_positions(header, columns, required, errors)
        if positions is None:
            return
        width = len(header)
        count = 0
        while True:
            line = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                errors.add(line, f"not readable as CSV: {exc}")
                if reader.line_num < line:
                    return
                continue
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if _undecodable(record):
                errors.add(line, _NOT_UTF8)
                continue
            if len(record) != width and not (
                len(record) > width and not any(v.strip() for v in record[width:])
            ):
                errors.add(line, f"expected {width} fields as in the header, found {len(record)}")
                continue
            yield line, {name: record[i].strip() for name, i in positions.items()}
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress("reading", raw.tell(), total)
        if progress is not None:
            progress("reading", total, total)


def _header_positions(
    header: list[str], columns: Sequence[str], required: Sequence[str], errors: ErrorList
) -> dict[str, int] | None:
    positions: dict[str, int] = {}
    problems = []
    for i, cell in enumerate(header):
        name = cell.strip().lower()
        if not name:
            continue  # an unnamed column (a spreadsheet's trailing comma) is ignored
        if name not in columns:
            problems.append(f"unknown column {cell.strip()!r} (the columns are {_list(columns)})")
        elif name in positions:
            problems.append(f"column {name!r} appears twice")
        else:
            positions[name] = i
    missing = [c for c in required if c not in positions]
    if missing:
        problems.append(
            f"the header must name the column(s) {_list(missing)}; "
            "the first line of the file names the columns"
        )
    for problem in problems:
        errors.add(1, problem)
    return None if problems else positions


def _list(names: Sequence[str]) -> str:
    return ", ".join(names)


_NOT_UTF8 = "not UTF-8 text; save the file as UTF-8 (CSV UTF-8 in spreadsheets)"
_SURROGATE = re.compile("[\udc80-\udcff]")


def _undecodable(record: list[str]) -> bool:
    joined = "".join(record)
    return not joined.isascii() and _SURROGATE.search(joined) is not None
