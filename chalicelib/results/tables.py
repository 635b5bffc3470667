"""Artifact frames as the API shows them: JSON records (ISO timestamps, NaN as null) and CSV downloads."""
from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

# A cell starting with one of these is run as a formula by spreadsheets; names come from shop data.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def flat(frame: pd.DataFrame) -> pd.DataFrame:
    """A named (non-default) index becomes columns, so dates or ids kept in the index are not lost."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame
    return frame.reset_index()


def kinds(frame: pd.DataFrame) -> dict[str, str]:
    """A coarse type per column, for the portal's table formatting."""
    out = {}
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            kind = "boolean"
        elif pd.api.types.is_integer_dtype(dtype):
            kind = "integer"
        elif pd.api.types.is_numeric_dtype(dtype):
            kind = "number"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kind = "datetime"
        elif _holds_lists(frame[name]):
            kind = "list"
        else:
            kind = "string"
        out[str(name)] = kind
    return out


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain JSON rows: pandas' own encoder turns timestamps into ISO text and NaN/inf into null."""
    if frame.empty:
        return []
    return json.loads(frame.to_json(orient="records", date_format="iso", date_unit="s"))


def page(frame: pd.DataFrame, offset: int, limit: int) -> dict[str, Any]:
    frame = flat(frame)
    return {"columns": [str(c) for c in frame.columns], "types": kinds(frame),
            "rows": records(frame.iloc[offset:offset + limit]), "total": int(len(frame)), "offset": offset,
            "limit": limit}


def to_csv(frame: pd.DataFrame) -> str:
    """CSV for spreadsheets: lists joined with "; ", ISO timestamps, and text that looks like a formula quoted."""
    frame = flat(frame).copy()
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            frame[name] = column.map(lambda t: None if pd.isna(t) else t.isoformat())
        elif _holds_lists(column):
            frame[name] = column.map(lambda v: "; ".join(str(x) for x in v) if _is_list(v) else v)
        if not pd.api.types.is_numeric_dtype(frame[name].dtype):
            frame[name] = frame[name].map(_defuse)
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue()


def _defuse(value: Any) -> Any:
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple) or (hasattr(value, "tolist") and getattr(value, "ndim", 0) == 1)


def _holds_lists(column: pd.Series) -> bool:
    if column.dtype != object:
        return False
    present = column.dropna()
    return not present.empty and bool(present.map(_is_list).any())
