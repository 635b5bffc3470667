"""Artifact frames as the API shows them: JSON-safe records, a kept index, spreadsheet-safe CSV."""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from chalicelib.results import tables
from chalicelib.results.artifacts import pack, unpack


def test_records_are_plain_json_with_iso_times_and_null_for_nan():
    frame = pd.DataFrame({"day": pd.to_datetime(["2024-01-01", None]), "value": [1.5, np.nan],
                          "ratio": [np.inf, 2.0]})
    assert tables.records(frame) == [{"day": "2024-01-01T00:00:00", "value": 1.5, "ratio": None},
                                     {"day": None, "value": None, "ratio": 2.0}]


def test_a_named_index_becomes_a_column_and_pages_slice():
    frame = pd.DataFrame({"revenue": [1.0, 2.0, 3.0]}, index=pd.Index(["a", "b", "c"], name="region"))
    page = tables.page(frame, offset=1, limit=1)
    assert page["columns"] == ["region", "revenue"] and page["total"] == 3
    assert page["rows"] == [{"region": "b", "revenue": 2.0}]
    assert page["types"] == {"region": "string", "revenue": "number"}


def test_csv_joins_lists_and_defuses_formulas():
    frame = pd.DataFrame({"name": ["=cmd()", "+1", "Tent"], "items": [["a", "b"], [], None],
                          "amount": [-1.0, 2.0, 3.0]})
    rows = list(csv.DictReader(io.StringIO(tables.to_csv(frame))))
    assert [r["name"] for r in rows] == ["'=cmd()", "'+1", "Tent"]
    assert rows[0]["items"] == "a; b" and rows[0]["amount"] == "-1.0"


def test_payload_round_trips_and_refuses_nan_meta():
    frame = pd.DataFrame({"x": [1, 2]})
    again, meta = unpack(pack(frame, {"model": "ets", "mape": 0.12}))
    assert again.equals(frame) and meta == {"model": "ets", "mape": 0.12}
    with pytest.raises(ValueError, match="plain JSON"):
        pack(frame, {"mape": float("nan")})
