"""Delimited text (CSV, TSV) and JSON Lines, in any common encoding, streamed in chunks of raw text."""
from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from chalicelib import errors
from chalicelib.ingest.bounded import LineBound
from chalicelib.ingest.table_stream import TableStream, as_text, clean_headers, json_text, text_frame

_CSV_BLOCK_BYTES = 1 << 22     # 4 MiB: 3x faster than 1 MiB (fewer tables to re-cut and convert); bounds memory
_DELIMITERS = (",", ";", "\t", "|")


def _latin1_fallback(exc: UnicodeError) -> tuple[str, int]:
    """CP-1252 leaves five bytes undefined; read them as Latin-1 so no byte ever stops a file."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start:exc.end].decode("latin-1"), exc.end


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 in a UTF-8 file are nearly always CP-1252 (a row pasted from Excel)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start:exc.end].decode("cp1252", errors="saleslens_latin1"), exc.end


codecs.register_error("saleslens_latin1", _latin1_fallback)
codecs.register_error("saleslens_cp1252", _cp1252_fallback)


def detect_encoding(head: bytes, at_eof: bool) -> str | None:
    """BOMs first, then UTF-16 without BOM, UTF-8 if the sample decodes, else CP-1252; None for binary."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if sample and sample.count(b"\x00") * 3 > len(sample):
        odd, even = sample[1::2].count(b"\x00"), sample[0::2].count(b"\x00")
        if odd * 10 > len(sample) * 4 and even == 0:
            return "utf-16-le"
        if even * 10 > len(sample) * 4 and odd == 0:
            return "utf-16-be"
    if b"\x00" in head:
        return None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=at_eof)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def _codec_errors(encoding: str) -> str:
    if encoding.startswith("utf-8"):
        return "saleslens_cp1252"
    return "saleslens_latin1" if encoding == "cp1252" else "replace"


def valid_utf8(head: bytes, at_eof: bool) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=at_eof)
    except UnicodeDecodeError:
        return False
    return True


def decode_head(head: bytes, encoding: str, at_eof: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors=_codec_errors(encoding))
    return decoder.decode(head, final=at_eof)


class _Utf8Reader(io.RawIOBase):
    """Re-encode a non-UTF-8 byte stream as UTF-8 for pyarrow, never failing on a stray byte."""

    def __init__(self, raw: BinaryIO, encoding: str) -> None:
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors=_codec_errors(encoding))
        self._pending = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._eof:
            data = self._raw.read(1 << 20)
            self._eof = not data
            self._pending = self._decoder.decode(data, final=self._eof).encode("utf-8")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


# --- CSV / TSV ------------------------------------------------------------------------------------------------

def _sniff_delimiter(text: str, prefer_tab: bool) -> str:
    """The candidate that splits the header into the most fields that the following rows agree with."""
    lines = text if len(text) < 200_000 else text[:200_000]
    best, best_score = ("\t" if prefer_tab else ","), (0.0, 0, 0)
    for rank, delimiter in enumerate(_DELIMITERS):
        try:
            rows = []
            for row in csv.reader(io.StringIO(lines, newline=""), delimiter=delimiter):
                rows.append(len(row))
                if len(rows) > 60:
                    break
        except csv.Error:
            continue
        rows = [count for count in rows[:-1] if count] if len(rows) > 2 else [count for count in rows if count]
        if not rows or rows[0] < 2:
            continue
        agree = sum(count == rows[0] for count in rows) / len(rows)
        preferred = int(prefer_tab and delimiter == "\t")
        score = (round(agree, 2), preferred, rows[0] if agree >= 0.5 else 0, -rank)
        if score > best_score:
            best, best_score = delimiter, score
    return best


class _RowNumbers:
    """Number parsed rows as the file's records, stepping over the ones pyarrow skipped as malformed."""

    def __init__(self, skipped: list[int], first: int = 2) -> None:
        self._skipped = skipped
        self._position = 0
        self._next = first

    def take(self, count: int) -> pd.Index:
        start = end = self._next
        end += count
        gaps = []
        while self._position < len(self._skipped) and self._skipped[self._position] < end:
            if self._skipped[self._position] >= start:
                gaps.append(self._skipped[self._position])
                end += 1
            self._position += 1
        self._next = end
        if not gaps:
            return pd.RangeIndex(start - 2, end - 2)
        return pd.Index(np.setdiff1d(np.arange(start, end), gaps) - 2)


def _line_too_long(limit: int) -> Any:
    def refuse(line: int) -> errors.UnreadableFile:
        return errors.UnreadableFile(
            f"Line {line:,} of the file is longer than {limit:,} bytes, so it cannot be a row of a table. Check that "
            "the file is text with one row per line (and that no quote (\") was opened and never closed), or "
            "split the data into shorter rows, and upload it again.", code="line_too_long")
    return refuse


def read_csv(stream: BinaryIO, text: str, encoding: str, chunk_rows: int, details: dict[str, Any],
             prefer_tab: bool, passthrough: bool, max_line_bytes: int) -> TableStream:
    delimiter = _sniff_delimiter(text, prefer_tab)
    details["delimiter"] = delimiter
    details["blank_rows"] = 0
    malformed: list[dict[str, Any]] = []
    skipped: list[int] = []

    def on_invalid(row: Any) -> str:
        if row.number is not None:
            skipped.append(row.number)
        malformed.append({"row": row.number, "text": (row.text or "")[:200],
                          "reason": f"expected {row.expected_columns} fields but found {row.actual_columns}"})
        return "skip"

    # Fast path: pyarrow reads UTF-8 bytes itself. Anything else, or a BOM'd file whose start is not valid UTF-8,
    # is re-encoded in Python first.
    source = LineBound(stream if passthrough else _Utf8Reader(stream, encoding),  # type: ignore[arg-type]
                       max_line_bytes, _line_too_long(max_line_bytes))
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter), [])
    reader = pa_csv.open_csv(
        source,
        read_options=pa_csv.ReadOptions(block_size=_CSV_BLOCK_BYTES, use_threads=False),  # serial: row numbers
        parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False,
                                          invalid_row_handler=on_invalid),
        convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()),
                                              strings_can_be_null=True, null_values=[""],
                                              quoted_strings_can_be_null=True))
    if not any(name.strip() for name in reader.schema.names):
        raise errors.UnreadableFile("The first row of the file is empty. Put the column names in the first row.")
    columns = clean_headers(reader.schema.names)
    chunks = _csv_chunks(reader, columns, chunk_rows, _RowNumbers(skipped), details)
    return TableStream(columns, "tsv" if delimiter == "\t" else "csv", details, chunks, malformed)


def _csv_chunks(reader: Any, columns: list[str], chunk_rows: int, numbers: _RowNumbers,
                details: dict[str, Any]) -> Iterator[pd.DataFrame]:
    for table in _rechunk((pa.Table.from_batches([batch]) for batch in reader), chunk_rows):
        index = numbers.take(table.num_rows)
        has_value = _any_value(table)
        if has_value is not None:  # all-empty lines carry no data: drop them, keep the others' numbers
            details["blank_rows"] += table.num_rows - pc.sum(has_value).as_py()
            table = table.filter(has_value)
            index = index[np.asarray(has_value)]
            if not table.num_rows:
                continue
        if any(not pa.types.is_string(kind) for kind in table.schema.types):  # header parsed differently
            table = pa.table([as_text(column) for column in table.columns], names=table.column_names)
        frame = table.to_pandas()
        frame.columns = columns
        frame.index = index
        yield frame


def _any_value(table: pa.Table) -> pa.Array | None:
    """A mask of rows with at least one value, or None when every row has one (the common case)."""
    if not any(column.null_count for column in table.columns):
        return None
    mask = pc.is_valid(table.column(0))
    for column in table.columns[1:]:
        mask = pc.or_(mask, pc.is_valid(column))
    mask = mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask
    return None if pc.all(mask).as_py() else mask


def _rechunk(tables: Iterable[pa.Table], rows: int) -> Iterator[pa.Table]:
    """Re-cut pyarrow's byte-sized blocks into tables of exactly ``rows`` rows (the last may be shorter)."""
    pending: list[pa.Table] = []
    count = 0
    for table in tables:
        if not table.num_rows:
            continue
        pending.append(table)
        count += table.num_rows
        while count >= rows:
            whole = pa.concat_tables(pending)
            yield whole.slice(0, rows)
            rest = whole.slice(rows)
            pending, count = ([rest] if rest.num_rows else []), rest.num_rows
    if count:
        yield pa.concat_tables(pending)


# --- JSON Lines ----------------------------------------------------------------------------------------------

def _json_lines(stream: BinaryIO, encoding: str, max_line_bytes: int) -> Iterator[tuple[int, str]]:
    stream.seek(0)
    bounded = io.BufferedReader(LineBound(stream, max_line_bytes, _line_too_long(max_line_bytes)))
    text = io.TextIOWrapper(bounded, encoding=encoding, errors=_codec_errors(encoding), newline=None)
    try:
        for number, line in enumerate(text, start=1):
            if line.strip():
                yield number, line
    finally:
        text.detach()
        bounded.detach()


def read_jsonl(stream: BinaryIO, encoding: str, chunk_rows: int, details: dict[str, Any],
               max_line_bytes: int) -> TableStream:
    """Two passes: the first collects every key (the header), the second yields rows."""
    keys: dict[str, None] = {}
    for _, line in _json_lines(stream, encoding, max_line_bytes):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            keys.update(dict.fromkeys(str(key) for key in record))
    if not keys:
        raise errors.UnreadableFile("No line of the file is a JSON object. JSON Lines files need one object per "
                                    "line, like {\"order_id\": \"1001\", \"amount\": 9.5}.")
    names, columns = list(keys), clean_headers(keys)
    malformed: list[dict[str, Any]] = []
    chunks = _jsonl_chunks(stream, encoding, names, columns, chunk_rows, malformed, max_line_bytes)
    return TableStream(columns, "jsonl", details, chunks, malformed)


def _jsonl_chunks(stream: BinaryIO, encoding: str, keys: list[str], columns: list[str], chunk_rows: int,
                  malformed: list[dict[str, Any]], max_line_bytes: int) -> Iterator[pd.DataFrame]:
    rows: list[list[str | None]] = []
    index: list[int] = []
    for number, line in _json_lines(stream, encoding, max_line_bytes):
        try:
            record = json.loads(line)
        except ValueError as exc:
            malformed.append({"row": number + 1, "line": number, "reason": f"not valid JSON ({exc.msg})"})
            continue
        if not isinstance(record, dict):
            malformed.append({"row": number + 1, "line": number, "reason": "the line is not a JSON object"})
            continue
        record = {str(key): value for key, value in record.items()}
        rows.append([json_text(record.get(key)) for key in keys])
        index.append(number - 1)  # line n is reported as row n + 1, as if a header were row 1
        if len(rows) == chunk_rows:
            yield text_frame(rows, columns, index)
            rows, index = [], []
    if rows:
        yield text_frame(rows, columns, index)
