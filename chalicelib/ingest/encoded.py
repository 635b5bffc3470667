"""A text column as its distinct values plus, per row, the position of its value: cleaning, parsing and hashing
then run once per distinct value, in Arrow compute, instead of once per row."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from chalicelib.ingest.fingerprints import HASH_KEY, NULL_HASH
from chalicelib.ingest.values import NULL_STR, STR

# Spreadsheet spellings of "no value". "NA" and "-" are only nulls in numbers and dates ("NA" is a region).
TEXT_NULLS = pa.array(["", "nan", "NaN", "NULL", "null", "Null", "N/A", "n/a", "#N/A"], STR)
VALUE_NULLS = pa.array(TEXT_NULLS.to_pylist() + ["NA", "na", "None", "none", "-", "--", "#VALUE!"], STR)


def arrow_text(values: pd.Series, one_chunk: bool = True) -> pa.Array | pa.ChunkedArray:
    """The column as Arrow strings, zero-copy for pandas' Arrow-backed ``str`` (which ``read_csv`` hands over
    in many chunks; joining them copies, so callers that can work chunked say ``one_chunk=False``)."""
    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype("str")
    arr = pa.array(values, type=STR, from_pandas=True)
    return arr.combine_chunks() if one_chunk and isinstance(arr, pa.ChunkedArray) else arr


def dictionary(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Distinct values and each row's position among them (−1 for null).

    Arrow encodes a chunked column with one memo table, so every chunk carries the same dictionary; if a
    future version does not, the column is joined and encoded again.
    """
    encoded = pc.dictionary_encode(arr)
    if isinstance(encoded, pa.Array):
        chunks = [encoded]
    elif len({(c.dictionary.buffers()[1].address, len(c.dictionary)) for c in encoded.chunks}) == 1:
        chunks = encoded.chunks
    else:
        chunks = [pc.dictionary_encode(arr.combine_chunks())]
    if not chunks:
        return pa.array([], STR), np.empty(0, dtype=np.int64)
    index = np.concatenate([pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in chunks])
    return chunks[0].dictionary.cast(STR), index.astype(np.int64, copy=False)


def tidy(arr: pa.Array, nulls: pa.Array = TEXT_NULLS) -> pa.Array:
    """Trimmed, inner whitespace collapsed, and the spreadsheet spellings of "empty" as null."""
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r"[\s\x{00a0}\x{202f}]{2,}|[\t\r\n]", " "))
    return pc.if_else(pc.is_in(arr, value_set=nulls), NULL_STR, arr)


@dataclass
class Encoded:
    """A column as distinct values plus, per row, the position of its value.

    Cleaning, parsing, matching and hashing then run once per distinct value instead of once per row;
    a column of mostly distinct values (timestamps) keeps one slot per row instead.
    """

    uniques: pa.Array
    index: np.ndarray
    raw: pa.Array | pa.ChunkedArray | None = None  # the rows as read, reused when tidying changed nothing

    @classmethod
    def of(cls, values: pd.Series, nulls: pa.Array, per_row_if_distinct: bool = False) -> Encoded:
        """Encode, unless asked to keep one slot per row when the first rows are mostly distinct (timestamps:
        encoding a million distinct strings costs more than parsing them)."""
        arr = arrow_text(values, one_chunk=False)
        head = arr.slice(0, 5000)
        if per_row_if_distinct and len(head) and pc.count_distinct(head).as_py() > len(head) // 2:
            light = pc.ascii_trim_whitespace(arrow_text(values))  # the regex tidy costs 0.2 s per million rows
            return cls(pc.if_else(pc.is_in(light, value_set=nulls), NULL_STR, light), np.arange(len(arr)))
        distinct, index = dictionary(arr)
        index[index < 0] = len(distinct)  # nulls point at the extra null slot at the end
        uniques = pa.concat_arrays([distinct, pa.nulls(1, STR)])
        tidied = tidy(uniques, nulls)
        return cls(tidied, index, arr if tidied.equals(uniques) else None)

    def map(self, transform: Callable[[pa.Array], pa.Array]) -> Encoded:
        uniques = transform(self.uniques)
        return Encoded(uniques, self.index, self.raw if uniques.equals(self.uniques) else None)

    def per_row(self, values: np.ndarray) -> np.ndarray:
        return values[self.index]

    @property
    def valid(self) -> np.ndarray:
        return self.per_row(self.uniques.is_valid().to_numpy(zero_copy_only=False))

    def rows(self, at: np.ndarray | None = None) -> pa.Array | pa.ChunkedArray:
        """The (tidied) text of the rows at ``at``, or of every row."""
        if self.raw is not None:
            return self.raw if at is None else self.raw.take(at)
        return self.uniques.take(self.index if at is None else self.index[at])

    def hashes(self) -> np.ndarray:
        values = self.uniques.to_numpy(zero_copy_only=False)
        hashed = pd.util.hash_array(values, hash_key=HASH_KEY, categorize=False)
        return self.per_row(np.where(pd.isna(values), NULL_HASH, hashed))
