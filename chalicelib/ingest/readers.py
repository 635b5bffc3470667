"""Turn any uploaded table file into a stream of text-only chunks, in bounded memory.

Nothing is parsed as a number or date here: values stay raw text so the cleaning step can apply
the tenant's locale (decimal commas, day-first dates) and report each bad value by row.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import json
import shutil
import tempfile
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from chalicelib import errors

_HEAD_BYTES = 1 << 20          # enough text to sniff encoding and delimiter on any real export
_CSV_BLOCK_BYTES = 1 << 22     # 4 MiB: 3x faster than 1 MiB (fewer tables to re-cut and convert); bounds memory
_DELIMITERS = (",", ";", "\t", "|")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx",
               ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
_BINARY_MAGIC = {b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"GIF8": "a GIF image",
                 b"\xff\xd8\xff": "a JPEG image", b"BZh": "a bzip2 archive", b"7z\xbc\xaf": "a 7-Zip archive",
                 b"Rar!": "a RAR archive", b"\xfd7zXZ": "an xz archive", b"RIFF": "a media file",
                 b"\xd0\xcf\x11\xe0": "an old-style Excel (.xls) or Office file"}
_READ_ERRORS = (pa.ArrowException, OSError, EOFError, zlib.error, zipfile.BadZipFile, ValueError, KeyError,
                IndexError, TypeError, UnicodeError, csv.Error, RecursionError)


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


def open_table(fileobj: BinaryIO, filename: str, chunk_rows: int = 200_000) -> TableStream:
    """Open an uploaded file of any supported format; raise a user-facing error if it cannot be read.

    The first rows are read straight away, so an empty or unreadable file fails here rather than
    half-way through an ingestion.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    name = PurePosixPath(filename or "upload").name
    try:
        stream = _open(_seekable(fileobj), name, chunk_rows, {}, depth=0)
        stream._source = _guarded(stream._source, name)
        if not stream._fill(1):
            raise _no_rows(stream)
        return stream
    except errors.SalesLensError:
        raise
    except _READ_ERRORS as exc:
        raise _unreadable(name, exc) from exc


def _unreadable(name: str, exc: BaseException) -> errors.UnreadableFile:
    reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    if "UTF8" in reason or "UTF-8" in reason or "\ufffd" in reason:  # bad bytes in a ragged row, too
        return errors.UnreadableFile(
            f"{name}: part of the file is not valid UTF-8 text although its start is. Save or export it again "
            "as 'CSV UTF-8' and upload it again.")
    return errors.UnreadableFile(f"{name} could not be read as a table ({reason}). Check that the file is "
                                 "complete and was exported as CSV, Excel (.xlsx), JSON Lines or Parquet.")


def _no_rows(stream: TableStream) -> errors.UnreadableFile:
    if stream.malformed:
        return errors.UnreadableFile(
            f"None of the rows has the same number of fields as the header ({len(stream.columns)} columns). "
            "Check the delimiter and quoting, or fix the header row.", details=stream.malformed[:20])
    return errors.UnreadableFile("The file has a header row but no data rows. Add the data below the header "
                                 "and upload it again.")


def _guarded(chunks: Iterator[pd.DataFrame], name: str) -> Iterator[pd.DataFrame]:
    """Turn read errors that surface mid-stream into the same user-facing error as at open."""
    try:
        yield from chunks
    except errors.SalesLensError:
        raise
    except _READ_ERRORS as exc:
        raise _unreadable(name, exc) from exc


# --- detection -------------------------------------------------------------------------------------------------

def _seekable(fileobj: BinaryIO) -> BinaryIO:
    """Formats with a directory at the end (zip, xlsx, parquet) need seeking; spool other streams."""
    try:
        if fileobj.seekable():
            return fileobj
    except (AttributeError, OSError):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # lives as long as the stream
    shutil.copyfileobj(fileobj, spool, 1 << 20)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _peek(stream: BinaryIO, size: int) -> bytes:
    start = stream.tell()
    head = stream.read(size)
    stream.seek(start)
    return head


def _open(stream: BinaryIO, name: str, chunk_rows: int, details: dict[str, Any], depth: int) -> TableStream:
    if depth > 2:
        raise errors.UnreadableFile("The file is compressed more than twice over. Upload it compressed once.")
    head = _peek(stream, _HEAD_BYTES)
    ext = PurePosixPath(name.lower()).suffix
    if not head.strip(b"\x00\t\r\n \xef\xbb\xbf\xff\xfe"):
        raise errors.UnreadableFile(f"{name} is empty. Export the data again with a header row and data rows, "
                                    "then upload it.")
    if head[:2] == b"\x1f\x8b":
        inner = name[:-3] if name.lower().endswith(".gz") else name
        return _open(gzip.GzipFile(fileobj=stream, mode="rb"), inner, chunk_rows,
                     {**details, "compression": "gzip"}, depth + 1)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _open_zip(stream, name, chunk_rows, details, depth)
    if head[:4] == b"PAR1":
        return _read_parquet(stream, chunk_rows, details)
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            hint = " Open it in Excel and save it as .xlsx or CSV." if "Excel" in what else ""
            raise errors.UnsupportedFile(f"{name} looks like {what}, not a table.{hint} "
                                         + errors.UnsupportedFile.default_message)
    if len(head) > 257 + 5 and head[257:262] == b"ustar":
        raise errors.UnsupportedFile(f"{name} is a tar archive. Upload the table inside it, or a .zip with "
                                     "one table.")
    if _EXTENSIONS.get(ext) in ("xlsx", "parquet"):
        raise errors.UnreadableFile(f"{name} is named like a {_EXTENSIONS[ext]} file but its content is not. "
                                    "Export it again, or rename it to match its real type.")
    if ext == ".xls":
        raise errors.UnsupportedFile(f"{name} is an old-style Excel file. Open it in Excel and save it as .xlsx "
                                     "or CSV.")
    encoding = _detect_encoding(head, at_eof=len(head) < _HEAD_BYTES)
    if encoding is None:
        raise errors.UnsupportedFile(f"{name} is not a text table (it contains binary data). "
                                     + errors.UnsupportedFile.default_message)
    text = _decode_head(head, encoding, at_eof=len(head) < _HEAD_BYTES)
    if _EXTENSIONS.get(ext) == "jsonl" or (ext not in _EXTENSIONS and text.lstrip().startswith("{")):
        return _read_jsonl(stream, encoding, chunk_rows, {**details, "encoding": encoding})
    passthrough = encoding.startswith("utf-8") and _valid_utf8(head, at_eof=len(head) < _HEAD_BYTES)
    return _read_csv(stream, text, encoding, chunk_rows, {**details, "encoding": encoding},
                     prefer_tab=_EXTENSIONS.get(ext) == "tsv", passthrough=passthrough)


def _open_zip(stream: BinaryIO, name: str, chunk_rows: int, details: dict[str, Any], depth: int) -> TableStream:
    archive = zipfile.ZipFile(stream)
    names = archive.namelist()
    if "xl/workbook.xml" in names:
        return _read_xlsx(stream, chunk_rows, details)
    if "[Content_Types].xml" in names or "mimetype" in names:
        raise errors.UnsupportedFile(f"{name} is a Word, PowerPoint or OpenDocument file, not a table. "
                                     + errors.UnsupportedFile.default_message)
    members = [n for n in names if not n.endswith("/") and not n.startswith("__MACOSX/")
               and not PurePosixPath(n).name.startswith(".")]
    if len(members) > 1:
        tables = [n for n in members if PurePosixPath(n.lower().removesuffix(".gz")).suffix in _EXTENSIONS]
        members = tables if len(tables) == 1 else members
    if not members:
        raise errors.UnreadableFile(f"{name} is an empty zip archive. Put one table file in it.")
    if len(members) > 1:
        raise errors.UnreadableFile(
            f"{name} holds {len(members)} files ({', '.join(members[:10])}). Upload one table per zip file, "
            "or upload the files one by one.", details=[{"file": n} for n in members])
    member = members[0]
    return _open(archive.open(member), PurePosixPath(member).name, chunk_rows,
                 {**details, "compression": "zip", "member": member}, depth + 1)


def _detect_encoding(head: bytes, at_eof: bool) -> str | None:
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


def _valid_utf8(head: bytes, at_eof: bool) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=at_eof)
    except UnicodeDecodeError:
        return False
    return True


def _decode_head(head: bytes, encoding: str, at_eof: bool) -> str:
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


def _clean_headers(names: Iterable[Any]) -> list[str]:
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


def _text_frame(rows: list[list[str | None]], columns: list[str], index: Any) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns, dtype=object) if rows else pd.DataFrame(columns=columns)
    frame = frame.astype("str") if len(frame) else frame
    frame.index = pd.Index(index) if not isinstance(index, pd.RangeIndex) else index
    return frame


# --- CSV / TSV ---------------------------------------------------------------------------------------------------

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


def _read_csv(stream: BinaryIO, text: str, encoding: str, chunk_rows: int, details: dict[str, Any],
              prefer_tab: bool, passthrough: bool) -> TableStream:
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
    source = stream if passthrough else _Utf8Reader(stream, encoding)
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
    columns = _clean_headers(reader.schema.names)
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
            table = pa.table([_arrow_text(column) for column in table.columns], names=table.column_names)
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


# --- JSON Lines --------------------------------------------------------------------------------------------------

def _json_text(value: Any) -> str | None:
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


def _json_lines(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, str]]:
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, errors=_codec_errors(encoding), newline=None)
    try:
        for number, line in enumerate(text, start=1):
            if line.strip():
                yield number, line
    finally:
        text.detach()


def _read_jsonl(stream: BinaryIO, encoding: str, chunk_rows: int, details: dict[str, Any]) -> TableStream:
    """Two passes: the first collects every key (the header), the second yields rows."""
    keys: dict[str, None] = {}
    for _, line in _json_lines(stream, encoding):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            keys.update(dict.fromkeys(str(key) for key in record))
    if not keys:
        raise errors.UnreadableFile("No line of the file is a JSON object. JSON Lines files need one object per "
                                    "line, like {\"order_id\": \"1001\", \"amount\": 9.5}.")
    names, columns = list(keys), _clean_headers(keys)
    malformed: list[dict[str, Any]] = []
    chunks = _jsonl_chunks(stream, encoding, names, columns, chunk_rows, malformed)
    return TableStream(columns, "jsonl", details, chunks, malformed)


def _jsonl_chunks(stream: BinaryIO, encoding: str, keys: list[str], columns: list[str], chunk_rows: int,
                  malformed: list[dict[str, Any]]) -> Iterator[pd.DataFrame]:
    rows: list[list[str | None]] = []
    index: list[int] = []
    for number, line in _json_lines(stream, encoding):
        try:
            record = json.loads(line)
        except ValueError as exc:
            malformed.append({"row": number + 1, "line": number, "reason": f"not valid JSON ({exc.msg})"})
            continue
        if not isinstance(record, dict):
            malformed.append({"row": number + 1, "line": number, "reason": "the line is not a JSON object"})
            continue
        record = {str(key): value for key, value in record.items()}
        rows.append([_json_text(record.get(key)) for key in keys])
        index.append(number - 1)  # line n is reported as row n + 1, as if a header were row 1
        if len(rows) == chunk_rows:
            yield _text_frame(rows, columns, index)
            rows, index = [], []
    if rows:
        yield _text_frame(rows, columns, index)


# --- Excel -------------------------------------------------------------------------------------------------------

def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return str(value)


def _read_xlsx(stream: BinaryIO, chunk_rows: int, details: dict[str, Any]) -> TableStream:
    import openpyxl  # imported here: only Excel uploads pay for it

    workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    for sheet in workbook.worksheets:
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        for number, cells in rows:
            header = [_cell_text(cell) for cell in cells]
            filled = [position for position, cell in enumerate(header) if cell is not None]
            if filled:
                first, last = filled[0], filled[-1] + 1
                columns = _clean_headers(header[first:last])
                stream_out = TableStream(columns, "xlsx", {**details, "sheet": sheet.title, "header_row": number},
                                         _xlsx_chunks(rows, first, last, columns, chunk_rows))
                if stream_out._fill(1):
                    return stream_out
                break
    raise errors.UnreadableFile("The workbook has no sheet with a header row and data rows. Put the column names "
                                "in the first row of the first sheet and the data below them.")


def _xlsx_chunks(rows: Iterator[tuple[int, tuple[Any, ...]]], first: int, last: int, columns: list[str],
                 chunk_rows: int) -> Iterator[pd.DataFrame]:
    width = last - first
    block: list[list[str | None]] = []
    index: list[int] = []
    for number, cells in rows:
        values = [_cell_text(cell) for cell in cells[first:last]]
        if not any(value is not None for value in values):
            continue  # empty rows carry nothing; the others keep their real sheet row numbers
        block.append(values + [None] * (width - len(values)))
        index.append(number - 2)
        if len(block) == chunk_rows:
            yield _text_frame(block, columns, index)
            block, index = [], []
    if block:
        yield _text_frame(block, columns, index)


# --- Parquet -----------------------------------------------------------------------------------------------------

def _arrow_text(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    kind = array.type
    if pa.types.is_dictionary(kind):
        return _arrow_text(pc.cast(array, kind.value_type))
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
        return pa.array([_json_text(v) for v in array.to_pylist()], pa.string())
    return pc.cast(array, pa.string())


def _read_parquet(stream: BinaryIO, chunk_rows: int, details: dict[str, Any]) -> TableStream:
    parquet = pq.ParquetFile(stream)
    columns = _clean_headers(parquet.schema_arrow.names)
    if not columns:
        raise errors.UnreadableFile("The Parquet file has no columns. Export it again with the data columns.")
    return TableStream(columns, "parquet", {**details, "rows": parquet.metadata.num_rows},
                       _parquet_chunks(parquet, columns, chunk_rows))


def _parquet_chunks(parquet: pq.ParquetFile, columns: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    start = 0
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        table = pa.table([_arrow_text(column) for column in batch.columns], names=columns)
        frame = table.to_pandas()
        frame.index = pd.RangeIndex(start, start + len(frame))
        start += len(frame)
        if len(frame):
            yield frame
