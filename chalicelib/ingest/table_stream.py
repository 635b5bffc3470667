"""An opened table as a stream of text-only chunks, and the helpers every format reader shares."""
from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class TableStream:
    """An opened table: its header, how it was read, and its rows as string-typed chunks.

    Every chunk's index is the row number minus 2 (the header is row 1), so reject reports can name
    the row a user sees in a spreadsheet. ``malformed`` fills up, as chunks are consumed, with the
    rows that had to be skipped (``{"row": n, "reason": ...}``).
    """

    columns: list[str]
    format: str
    details: dict[str, Any]
    chunks: Iterator[pd.DataFrame]
    malformed: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._source = iter(self.chunks)
        self._buffer: deque[pd.DataFrame] = deque()
        self._yielded = 0
        self.chunks = self._iterate()

    def _iterate(self) -> Iterator[pd.DataFrame]:
        while True:
            if self._buffer:
                chunk = self._buffer.popleft()
            else:
                chunk = next(self._source, None)
                if chunk is None:
                    return
            self._yielded += 1
            yield chunk

    def _fill(self, rows: int) -> int:
        """Pull chunks into the look-ahead buffer until it holds ``rows`` rows or the file ends."""
        have = sum(len(chunk) for chunk in self._buffer)
        while have < rows:
            chunk = next(self._source, None)
            if chunk is None:
                break
            self._buffer.append(chunk)
            have += len(chunk)
        return have

    def sample(self, n: int = 1000) -> pd.DataFrame:
        """The first ``n`` rows, kept in the buffer so ``chunks`` still yields them."""
        if self._yielded:
            raise RuntimeError("sample() must be called before chunks are consumed")
        self._fill(n)
        if not self._buffer:
            return pd.DataFrame({name: pd.Series([], dtype="str") for name in self.columns})
        return pd.concat(list(self._buffer)).head(n)


def clean_headers(names: Iterable[Any]) -> list[str]:
    """Trim names; blank ones become ``column_<n>`` and repeats get ``_2``, ``_3`` so every name is unique."""
    raw = ["" if name is None else str(name).replace("\ufeff", "").strip() for name in names]
    taken = {name.lower() for name in raw if name}
    seen: set[str] = set()
    result = []
    for position, name in enumerate(raw, start=1):
        if not name:
            name = f"column_{position}"
        candidate, suffix = name, 2
        while candidate.lower() in seen or (candidate != name and candidate.lower() in taken):
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        seen.add(candidate.lower())
        result.append(candidate)
    return result


def text_frame(rows: list[list[str | None]], columns: list[str], index: Any) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns, dtype=object) if rows else pd.DataFrame(columns=columns)
    frame = frame.astype("str") if len(frame) else frame
    frame.index = pd.Index(index) if not isinstance(index, pd.RangeIndex) else index
    return frame


def as_text(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    kind = array.type
    if pa.types.is_dictionary(kind):
        return as_text(pc.cast(array, kind.value_type))
    if pa.types.is_timestamp(kind):
        seconds = pc.cast(array, pa.timestamp("s", tz=kind.tz), safe=False)
        return pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S%z" if kind.tz else "%Y-%m-%dT%H:%M:%S")
    if pa.types.is_time(kind):
        return pc.strftime(pc.cast(array, pa.time32("s"), safe=False), format="%H:%M:%S")
    if pa.types.is_floating(kind):
        array = pc.if_else(pc.is_nan(array), pa.scalar(None, kind), array)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.cast(array, pa.string())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return pa.array([None if v is None else v.decode("utf-8", "replace") for v in array.to_pylist()], pa.string())
    if pa.types.is_nested(kind):
        return pa.array([json_text(v) for v in array.to_pylist()], pa.string())
    return pc.cast(array, pa.string())


def json_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return None if value != value else repr(value)  # NaN is "no value"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
