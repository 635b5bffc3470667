"""Sample data as files: CSV (or gzipped CSV) the way a person would export it, and a command line.

  python -m chalicelib.samples.files sales.csv --rows 100000
  python -m chalicelib.samples.files cars.csv.gz --kind dealer
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from chalicelib.samples.cars import dealer
from chalicelib.samples.generator import retail


def _csv_type(kind: pa.DataType) -> pa.DataType:
    """Plain text for categoricals and whole seconds for timestamps, as a person would export them."""
    if pa.types.is_dictionary(kind):
        return pa.string()
    return pa.timestamp("s") if pa.types.is_timestamp(kind) else kind


def write_csv(path: str | Path, chunks: Iterable[pd.DataFrame]) -> int:
    """Write chunks to one CSV file (gzip when the name ends in .gz) with a single header; returns rows written."""
    path = Path(path)
    rows, writer = 0, None
    sink = pa.CompressedOutputStream(str(path), "gzip") if path.suffix == ".gz" else pa.OSFile(str(path), "wb")
    with sink:
        for chunk in chunks:
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            table = table.cast(pa.schema([pa.field(f.name, _csv_type(f.type)) for f in table.schema]))
            if writer is None:
                writer = pacsv.CSVWriter(sink, table.schema)
            writer.write_table(table)
            rows += table.num_rows
        if writer is not None:
            writer.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write sample sales data with planted structure to a CSV file.")
    parser.add_argument("out", help="output CSV path (.csv or .csv.gz)")
    parser.add_argument("--kind", choices=("retail", "dealer"), default="retail")
    parser.add_argument("--rows", type=int, default=None, help="about this many rows (default: the sample's size)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--start", default="2024-01-01")
    args = parser.parse_args(argv)
    size = {} if args.customers is None else {"customers": args.customers}
    make = retail if args.kind == "retail" else dealer
    rows = write_csv(args.out, make(seed=args.seed, start=args.start, days=args.days, target_rows=args.rows,
                                    **size))
    print(f"wrote {rows:,} {args.kind} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
