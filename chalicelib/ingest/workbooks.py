"""Spreadsheets (.xlsx) and Parquet files, streamed in chunks of raw text like every other format."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from chalicelib import errors
from chalicelib.ingest.table_stream import TableStream, as_text, clean_headers, text_frame

# --- XLSX ----------------------------------------------------------------------------------------------------

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


def read_xlsx(stream: BinaryIO, chunk_rows: int, details: dict[str, Any]) -> TableStream:
    import openpyxl  # imported here: only Excel uploads pay for it

    workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    for sheet in workbook.worksheets:
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        for number, cells in rows:
            header = [_cell_text(cell) for cell in cells]
            filled = [position for position, cell in enumerate(header) if cell is not None]
            if filled:
                first, last = filled[0], filled[-1] + 1
                columns = clean_headers(header[first:last])
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
            yield text_frame(block, columns, index)
            block, index = [], []
    if block:
        yield text_frame(block, columns, index)


# --- Parquet -------------------------------------------------------------------------------------------------

def read_parquet(stream: BinaryIO, chunk_rows: int, details: dict[str, Any]) -> TableStream:
    parquet = pq.ParquetFile(stream)
    columns = clean_headers(parquet.schema_arrow.names)
    if not columns:
        raise errors.UnreadableFile("The Parquet file has no columns. Export it again with the data columns.")
    return TableStream(columns, "parquet", {**details, "rows": parquet.metadata.num_rows},
                       _parquet_chunks(parquet, columns, chunk_rows))


def _parquet_chunks(parquet: pq.ParquetFile, columns: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    start = 0
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        table = pa.table([as_text(column) for column in batch.columns], names=columns)
        frame = table.to_pandas()
        frame.index = pd.RangeIndex(start, start + len(frame))
        start += len(frame)
        if len(frame):
            yield frame
