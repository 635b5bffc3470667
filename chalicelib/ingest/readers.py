"""Turn any uploaded table file into a stream of text-only chunks, in bounded memory.

Nothing is parsed as a number or date here: values stay raw text so the cleaning step can apply
the tenant's locale (decimal commas, day-first dates) and report each bad value by row. This module
recognises what a file is (compression, zip, binary look-alikes, encoding) and hands it to its reader:
:mod:`~chalicelib.ingest.delimited` (CSV, TSV, JSON Lines) or :mod:`~chalicelib.ingest.workbooks`
(XLSX, Parquet); every reader returns a :class:`~chalicelib.ingest.table_stream.TableStream`.
"""
from __future__ import annotations

import csv
import gzip
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa

from chalicelib import errors
from chalicelib.ingest.bounded import ExpansionBound
from chalicelib.ingest.delimited import decode_head, detect_encoding, read_csv, read_jsonl, valid_utf8
from chalicelib.ingest.limits import ReadBounds
from chalicelib.ingest.table_stream import TableStream
from chalicelib.ingest.workbooks import read_parquet, read_xlsx

_HEAD_BYTES = 1 << 20          # enough text to sniff encoding and delimiter on any real export
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx",
               ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
_BINARY_MAGIC = {b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"GIF8": "a GIF image",
                 b"\xff\xd8\xff": "a JPEG image", b"BZh": "a bzip2 archive", b"7z\xbc\xaf": "a 7-Zip archive",
                 b"Rar!": "a RAR archive", b"\xfd7zXZ": "an xz archive", b"RIFF": "a media file",
                 b"\xd0\xcf\x11\xe0": "an old-style Excel (.xls) or Office file"}
_READ_ERRORS = (pa.ArrowException, OSError, EOFError, zlib.error, zipfile.BadZipFile, ValueError, KeyError,
                IndexError, TypeError, UnicodeError, csv.Error, RecursionError)


@dataclass(frozen=True)
class _Reading:
    """What every level of a (possibly compressed) file is read with."""

    chunk_rows: int
    bounds: ReadBounds
    size: int       # the file as stored: what compression ratios are measured against
    budget: int     # the most bytes any decompressed level may hold

    def refuse(self, name: str, declared: int | None = None) -> errors.FileTooLarge:
        found = (f"declares {declared:,} bytes uncompressed" if declared is not None
                 else f"inflates past {self.budget:,} bytes")
        return errors.FileTooLarge(
            f"{name} {found} from {self.size:,} bytes compressed; SalesLens reads a compressed file that expands "
            f"at most {self.bounds.max_expansion}× (and to at most {self.budget:,} bytes for this one). This looks "
            "like a decompression bomb, not an export: upload the table itself, or split it into smaller files.",
            code="archive_too_large")


def open_table(fileobj: BinaryIO, filename: str, chunk_rows: int = 100_000,
               bounds: ReadBounds | None = None) -> TableStream:
    """Open an uploaded file of any supported format; raise a user-facing error if it cannot be read.

    The first rows are read straight away, so an empty or unreadable file fails here rather than
    half-way through an ingestion. ``bounds`` limits what compressed levels inflate to and how long a line may
    be (:class:`~chalicelib.ingest.limits.ReadBounds`), checked as the file streams.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    name = PurePosixPath(filename or "upload").name
    bounds = bounds or ReadBounds()
    try:
        seekable = _seekable(fileobj)
        size = seekable.seek(0, 2) - seekable.seek(0)
        reading = _Reading(chunk_rows, bounds, size, bounds.expanded_budget(size))
        stream = _open(seekable, name, reading, {}, depth=0)
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
    if "straddl" in reason:  # pyarrow met a row longer than its block: no table row is that long
        return errors.UnreadableFile(
            f"{name} has a row longer than a few megabytes, so it cannot be a row of a table. Check that the file "
            "is text with one row per line (and that no quote (\") was opened and never closed), then upload it "
            "again.", code="line_too_long")
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


# --- detection -----------------------------------------------------------------------------------------------

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


def _open(stream: BinaryIO, name: str, reading: _Reading, details: dict[str, Any], depth: int) -> TableStream:
    if depth > 2:
        raise errors.UnreadableFile("The file is compressed more than twice over. Upload it compressed once.")
    head = _peek(stream, _HEAD_BYTES)
    ext = PurePosixPath(name.lower()).suffix
    if not head.strip(b"\x00\t\r\n \xef\xbb\xbf\xff\xfe"):
        raise errors.UnreadableFile(f"{name} is empty. Export the data again with a header row and data rows, "
                                    "then upload it.")
    if head[:2] == b"\x1f\x8b":
        inner = name[:-3] if name.lower().endswith(".gz") else name
        if depth == 0 and _gzip_declared(stream) > reading.budget:
            raise reading.refuse(name, _gzip_declared(stream))
        inflated = ExpansionBound(gzip.GzipFile(fileobj=stream, mode="rb"), reading.budget,
                                  lambda: reading.refuse(name))
        return _open(inflated, inner, reading, {**details, "compression": "gzip"}, depth + 1)  # type: ignore[arg-type]
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _open_zip(stream, name, reading, details, depth)
    if head[:4] == b"PAR1":
        return read_parquet(stream, reading.chunk_rows, details)
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
    encoding = detect_encoding(head, at_eof=len(head) < _HEAD_BYTES)
    if encoding is None:
        raise errors.UnsupportedFile(f"{name} is not a text table (it contains binary data). "
                                     + errors.UnsupportedFile.default_message)
    text = decode_head(head, encoding, at_eof=len(head) < _HEAD_BYTES)
    if _EXTENSIONS.get(ext) == "jsonl" or (ext not in _EXTENSIONS and text.lstrip().startswith("{")):
        return read_jsonl(stream, encoding, reading.chunk_rows, {**details, "encoding": encoding},
                          reading.bounds.max_line_bytes)
    passthrough = encoding.startswith("utf-8") and valid_utf8(head, at_eof=len(head) < _HEAD_BYTES)
    return read_csv(stream, text, encoding, reading.chunk_rows, {**details, "encoding": encoding},
                    prefer_tab=_EXTENSIONS.get(ext) == "tsv", passthrough=passthrough,
                    max_line_bytes=reading.bounds.max_line_bytes)


def _gzip_declared(stream: BinaryIO) -> int:
    """The uncompressed size a gzip file's trailer declares (modulo 4 GiB, and the last member's only: the
    streaming bound catches a file that lies; this catches the plain bomb before a byte is inflated)."""
    start = stream.tell()
    try:
        stream.seek(-4, 2)
        return int.from_bytes(stream.read(4), "little")
    except OSError:
        return 0
    finally:
        stream.seek(start)


def _open_zip(stream: BinaryIO, name: str, reading: _Reading, details: dict[str, Any], depth: int) -> TableStream:
    archive = zipfile.ZipFile(stream)
    names = archive.namelist()
    declared = sum(info.file_size for info in archive.infolist())
    if declared > reading.budget:  # the sizes zipfile itself stops inflating at
        raise reading.refuse(name, declared)
    if "xl/workbook.xml" in names:
        return read_xlsx(stream, reading.chunk_rows, details)
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
    inflated = ExpansionBound(archive.open(member), reading.budget, lambda: reading.refuse(name))  # type: ignore[arg-type]
    return _open(inflated, PurePosixPath(member).name, reading,  # type: ignore[arg-type]
                 {**details, "compression": "zip", "member": member}, depth + 1)
