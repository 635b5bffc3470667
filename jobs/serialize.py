"""Artifacts leave the worker as Parquet frames with JSON metadata: make analytics output fit both."""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, timestamps, NaN and small frames turned into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict("records")]
    if isinstance(value, pd.Series):
        return jsonable(value.to_dict())
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy Parquet can hold: tuples as lists, categoricals as text, mixed object columns as numbers or text."""
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            out[column] = values.astype(object).where(values.notna(), None).astype("string")
        elif values.dtype == object:
            out[column] = _object_column(values)
    out.columns = [str(c) for c in out.columns]
    return out


def _object_column(values: pd.Series) -> pd.Series:
    present = values.dropna()
    if present.empty:
        return values.astype("string")
    if present.map(lambda v: isinstance(v, tuple | list)).all():
        return values.map(lambda v: [str(x) for x in v] if isinstance(v, tuple | list) else None)
    if present.map(lambda v: isinstance(v, bool | np.bool_)).all():
        return values.astype("boolean")
    if present.map(lambda v: isinstance(v, int | float | np.number) and not isinstance(v, bool)).all():
        return pd.to_numeric(values, errors="coerce").astype(float)
    if present.map(lambda v: isinstance(v, pd.Timestamp | datetime | date)).all():
        return pd.to_datetime(values, errors="coerce")
    return values.map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)).astype(
        "string")
