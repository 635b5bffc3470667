"""Bounds on everything stored per upload, so an upload record always fits one DynamoDB item (400 KB).

Header names are refused, never cut, when over their bounds (a mapping names them exactly); a value far
too long to be real data is refused when the file is read; everything shown back (preview, summary,
quality report, error) is cut to size when stored. Worst case with every field at its bound: headers
three times (``headers``, ``proposal``, ``mapping``) 3 × 64 KB, preview 64 KB, summary and quality report
32 KB each, error 30 KB: 350 KB.
"""
from __future__ import annotations

import json
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib import errors
from chalicelib.ingest.filenames import display_name

if TYPE_CHECKING:  # the API's request models read the bounds below without importing pandas
    import pandas as pd

MAX_COLUMNS = 1000
MAX_HEADER_CHARS = 256
MAX_HEADER_BYTES = 64 * 1024      # all header names together, as stored (JSON text)
MAX_VALUE_CHARS = 100_000         # one value; longer is nearly always a quote opened and never closed
PREVIEW_ROWS = 5
PREVIEW_CELL_CHARS = 200
PREVIEW_BYTES = 64 * 1024
MAX_DETAILS = 20                  # error details kept; the rest become one "… and N more"
DETAIL_CHARS = 200
MESSAGE_CHARS = 1000
MAX_ITEMS = 50                    # list items and object keys in the summary and quality report
TEXT_CHARS = 500
SHOWN_BYTES = 32 * 1024           # the summary, the quality report, each as stored
DETAILS_BYTES = 24 * 1024         # an error's details together
RECORD_BYTES = 390 * 1024         # DynamoDB refuses items over 400 KB


@dataclass(frozen=True)
class ReadBounds:
    """How far a file may stretch as it is read; tests (and a tenant with odd files) pass their own.

    A compressed file may inflate to ``max_expansion`` times its size, and always to ``expansion_floor`` bytes
    (a small, very repetitive export is not a bomb), never past ``max_expanded_bytes``. A line longer than
    ``max_line_bytes`` is no row of a table: it is refused as soon as it is seen, never held in memory.
    """

    max_line_bytes: int = 16 * 1024 * 1024
    max_expansion: int = 100
    expansion_floor: int = 64 * 1024 * 1024
    max_expanded_bytes: int = 20 * 1024 ** 3

    def expanded_budget(self, compressed_bytes: int) -> int:
        """The most bytes a compressed file of ``compressed_bytes`` may inflate to."""
        return min(self.max_expanded_bytes, max(self.expansion_floor, self.max_expansion * compressed_bytes))


class RecordTooLarge(ValueError):
    """An upload record that would not fit one item: a bound is missing somewhere (a bug, not the user's)."""


def clip(text: str, limit: int) -> str:
    """``text`` if it fits, else its start and "…", ``limit`` characters in all."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def encoded_size(value: Any) -> int:
    """Bytes as stored: JSON text (ASCII-escaped, as ``UploadStore`` writes it)."""
    return len(json.dumps(value, default=str))


def check_headers(headers: list[str]) -> None:
    """Refuse a header row too wide or too long to store, saying what to change."""
    if len(headers) > MAX_COLUMNS:
        raise errors.UnreadableFile(
            f"The file has {len(headers):,} columns; SalesLens reads at most {MAX_COLUMNS:,}. Remove the columns "
            "you do not need (or split them into two files) and upload it again.")
    for position, name in enumerate(headers, start=1):
        if len(name) > MAX_HEADER_CHARS:
            raise errors.UnreadableFile(
                f"Column {position}'s name is {len(name):,} characters long (it starts '{clip(name, 40)}'); a "
                f"column name can be at most {MAX_HEADER_CHARS}. Check that the first row is the header row, "
                "shorten the name and upload the file again.")
    if encoded_size(headers) > MAX_HEADER_BYTES:
        raise errors.UnreadableFile(
            f"The column names are {encoded_size(headers) // 1024:,} KB long all together; the limit is "
            f"{MAX_HEADER_BYTES // 1024} KB. Shorten the names or remove columns you do not need, then upload "
            "the file again.")


def check_values(sample: pd.DataFrame) -> None:
    """Refuse a file whose sample holds a value longer than ``MAX_VALUE_CHARS``, naming its row and column."""
    for column in sample.columns:
        lengths = sample[column].map(lambda value: len(value) if isinstance(value, str) else 0)
        if len(lengths) and lengths.max() > MAX_VALUE_CHARS:
            at = lengths.idxmax()
            row = int(at) + 2 if isinstance(at, numbers.Integral) else at  # chunk index = row number - 2
            raise errors.UnreadableFile(
                f"Row {row}, column '{clip(str(column), 80)}' holds a value of {lengths.max():,} characters; "
                f"a value can be at most {MAX_VALUE_CHARS:,}. This usually means a quote (\") was opened and "
                "never closed, so the rest of the file was read as one value: check the quoting around that "
                "row (or shorten the value) and upload the file again.")


def preview(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first ``PREVIEW_ROWS`` rows with each text cut to ``PREVIEW_CELL_CHARS``, as many as fit the budget."""
    kept: list[dict[str, Any]] = []
    size = 2
    for row in rows[:PREVIEW_ROWS]:
        cut = {name: clip(value, PREVIEW_CELL_CHARS) if isinstance(value, str) else value
               for name, value in row.items()}
        size += encoded_size(cut) + 2
        if size > PREVIEW_BYTES:
            break
        kept.append(cut)
    return kept


def error_record(exc: errors.SalesLensError) -> dict[str, Any]:
    """What a failed upload stores: code, message and at most ``MAX_DETAILS`` details, each cut to size."""
    return bounded_error({"code": exc.code, "message": exc.message, "details": exc.details})


def bounded_error(error: dict[str, Any]) -> dict[str, Any]:
    if not error:
        return error
    details = list(error.get("details") or [])
    shown = bounded(details[:MAX_DETAILS], DETAIL_CHARS, budget=DETAILS_BYTES)
    if len(details) > MAX_DETAILS:
        shown.append({"problem": f"… and {len(details) - MAX_DETAILS:,} more"})
    return {**bounded({k: v for k, v in error.items() if k not in ("message", "details")}, DETAIL_CHARS),
            "message": clip(str(error.get("message") or ""), MESSAGE_CHARS), "details": shown}


def bounded(value: Any, chars: int = TEXT_CHARS, budget: int = SHOWN_BYTES) -> Any:
    """A JSON value with every text cut to ``chars`` and every list and object to ``MAX_ITEMS`` entries; cut
    harder (half the characters and entries, again) until it fits ``budget`` bytes as stored."""
    items = MAX_ITEMS
    kept = _cut(value, chars, items, 0)
    while encoded_size(kept) > budget and chars > 8:
        chars, items = chars // 2, max(items // 2, 1)
        kept = _cut(value, chars, items, 0)
    return kept


def _cut(value: Any, chars: int, items: int, depth: int) -> Any:
    if isinstance(value, str):
        return clip(value, chars)
    if depth > 6 and isinstance(value, (dict, list, tuple)):
        return clip(json.dumps(value, default=str), chars)
    if isinstance(value, dict):
        return {clip(str(k), chars): _cut(v, chars, items, depth + 1) for k, v in list(value.items())[:items]}
    if isinstance(value, (list, tuple)):
        kept = [_cut(item, chars, items, depth + 1) for item in value[:items]]
        return kept + ([f"… and {len(value) - items:,} more"] if len(value) > items else [])
    return value


def bound_upload(upload: Any) -> None:
    """Cut, in place, every field of an upload that is shown back; headers and mappings are checked when read."""
    upload.filename = display_name(upload.filename)
    upload.preview = preview(upload.preview)
    upload.summary = bounded(upload.summary)
    upload.quality = bounded(upload.quality)
    upload.error = bounded_error(upload.error)


def check_record(item: dict[str, Any]) -> None:
    """Refuse, before DynamoDB does, an item (attribute → text or number) over ``RECORD_BYTES``."""
    size = sum(len(name) + (len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else 21)
               for name, value in item.items())
    if size > RECORD_BYTES:
        raise RecordTooLarge(f"upload record of {size:,} bytes; the limit is {RECORD_BYTES:,}")
