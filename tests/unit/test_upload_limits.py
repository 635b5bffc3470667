"""Every field stored per upload has a bound: just under it is kept as is, over it is cut or refused with a message."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from chalicelib import errors
from chalicelib.ingest import limits
from chalicelib.ingest.uploads import Upload


def _upload(**fields: object) -> Upload:
    return Upload(**{"tenant_id": "t1", "upload_id": "u1", "dataset": "transactions", "filename": "a.csv",
                     "source": "upload", "key": "raw/t1/u1/a.csv", **fields})


# -- header names: refused, never cut (a mapping names them exactly) ---------------------------------------------

def test_a_header_name_at_the_limit_is_accepted_and_one_over_is_refused() -> None:
    limits.check_headers(["a" * limits.MAX_HEADER_CHARS, "b"])
    with pytest.raises(errors.UnreadableFile) as refused:
        limits.check_headers(["ok", "x" * (limits.MAX_HEADER_CHARS + 1)])
    assert "Column 2" in refused.value.message and f"{limits.MAX_HEADER_CHARS}" in refused.value.message
    assert "header" in refused.value.message


def test_as_many_columns_as_the_limit_are_accepted_and_one_more_is_refused() -> None:
    limits.check_headers([f"c{n}" for n in range(limits.MAX_COLUMNS)])
    with pytest.raises(errors.UnreadableFile) as refused:
        limits.check_headers([f"c{n}" for n in range(limits.MAX_COLUMNS + 1)])
    assert f"{limits.MAX_COLUMNS + 1:,} columns" in refused.value.message
    assert f"at most {limits.MAX_COLUMNS:,}" in refused.value.message


def test_all_header_names_together_have_a_budget() -> None:
    width = limits.MAX_HEADER_CHARS - 6
    fits = [f"{n:04d}-" + "h" * (width - 5) for n in range(limits.MAX_HEADER_BYTES // (width + 4))]
    assert limits.encoded_size(fits) <= limits.MAX_HEADER_BYTES
    limits.check_headers(fits)
    over = fits + [f"more-{n}" + "h" * width for n in range(10)]
    with pytest.raises(errors.UnreadableFile) as refused:
        limits.check_headers(over)
    assert "column names" in refused.value.message and "together" in refused.value.message


# -- values: one far too long is refused when the file is read ----------------------------------------------------

def test_a_value_at_the_limit_is_read_and_a_longer_one_refused_naming_its_row_and_column() -> None:
    sample = pd.DataFrame({"a": ["x", "y" * limits.MAX_VALUE_CHARS], "b": ["1", "2"]}, dtype="str")
    limits.check_values(sample)
    sample.loc[1, "b"] = "z" * (limits.MAX_VALUE_CHARS + 1)
    with pytest.raises(errors.UnreadableFile) as refused:
        limits.check_values(sample)
    message = refused.value.message
    assert "Row 3" in message and "'b'" in message and f"{limits.MAX_VALUE_CHARS + 1:,}" in message
    assert "quote" in message


# -- preview: cells cut, rows capped, the whole within a budget -------------------------------------------------

def test_a_preview_cell_at_the_limit_stays_and_a_longer_one_is_cut() -> None:
    at, over = "p" * limits.PREVIEW_CELL_CHARS, "q" * (limits.PREVIEW_CELL_CHARS + 1)
    rows = limits.preview([{"a": at, "b": over, "c": None, "d": 3}])
    assert rows == [{"a": at, "b": over[:limits.PREVIEW_CELL_CHARS - 1] + "…", "c": None, "d": 3}]


def test_the_preview_keeps_at_most_its_row_count_and_its_byte_budget() -> None:
    rows = [{"a": str(n)} for n in range(limits.PREVIEW_ROWS + 3)]
    assert limits.preview(rows) == rows[:limits.PREVIEW_ROWS]
    wide = [{f"column {c:04d}": "v" * limits.PREVIEW_CELL_CHARS for c in range(150)} for _ in range(5)]
    kept = limits.preview(wide)
    assert 0 < len(kept) < 5 and limits.encoded_size(kept) <= limits.PREVIEW_BYTES


# -- the error shown on a failed upload --------------------------------------------------------------------------

def test_error_details_at_the_cap_stay_and_more_are_summarised() -> None:
    at = [{"row": n, "reason": "bad"} for n in range(limits.MAX_DETAILS)]
    assert limits.error_record(errors.UnreadableFile("m", details=at))["details"] == at
    over = [{"row": n, "reason": "bad"} for n in range(limits.MAX_DETAILS + 7)]
    shown = limits.error_record(errors.UnreadableFile("m", details=over))["details"]
    assert shown[:-1] == over[:limits.MAX_DETAILS] and shown[-1] == {"problem": "… and 7 more"}


def test_error_texts_are_cut() -> None:
    long_row = {"row": 2, "text": "t" * 5_000_000, "reason": "r" * limits.DETAIL_CHARS}
    record = limits.error_record(errors.UnreadableFile("m" * (limits.MESSAGE_CHARS + 1), details=[long_row]))
    assert len(record["message"]) == limits.MESSAGE_CHARS and record["message"].endswith("…")
    assert len(record["details"][0]["text"]) == limits.DETAIL_CHARS
    assert record["details"][0]["reason"] == long_row["reason"]
    at_limit = "m" * limits.MESSAGE_CHARS
    assert limits.error_record(errors.UnreadableFile(at_limit))["message"] == at_limit


# -- summary and quality report ----------------------------------------------------------------------------------

def test_summary_lists_and_texts_are_capped() -> None:
    at = {"currencies": [f"C{n:02d}" for n in range(limits.MAX_ITEMS)], "headline": "h" * limits.TEXT_CHARS}
    assert limits.bounded(at) == at
    over = {"currencies": [f"C{n:03d}" for n in range(limits.MAX_ITEMS + 5)], "headline": "h" * 9_999_999,
            "reject_reasons": {f"reason {n}": n for n in range(limits.MAX_ITEMS + 1)}}
    kept = limits.bounded(over)
    assert kept["currencies"][:-1] == over["currencies"][:limits.MAX_ITEMS] and kept["currencies"][-1] == "… and 5 more"
    assert len(kept["headline"]) == limits.TEXT_CHARS
    assert len(kept["reject_reasons"]) == limits.MAX_ITEMS


# -- the record as a whole ---------------------------------------------------------------------------------------

def test_bounding_an_upload_cuts_every_field_in_place() -> None:
    upload = _upload(filename="f" * 300 + ".csv", preview=[{"a": "x" * 1000}],
                     summary={"currencies": ["€" * 10_000]}, quality={"issues": ["i" * 10_000]},
                     error={"code": "unreadable_file", "message": "m" * 10_000, "details": [{"text": "t"}] * 99})
    limits.bound_upload(upload)
    assert len(upload.filename) == 120 and upload.filename.endswith(".csv")
    assert len(upload.preview[0]["a"]) == limits.PREVIEW_CELL_CHARS
    assert len(upload.summary["currencies"][0]) == limits.TEXT_CHARS
    assert len(upload.quality["issues"][0]) == limits.TEXT_CHARS
    assert len(upload.error["message"]) == limits.MESSAGE_CHARS and len(upload.error["details"]) == 21


def test_a_record_that_would_not_fit_one_item_is_refused_before_it_is_sent() -> None:
    limits.check_record({"pk": "TENANT#t1", "preview": "x" * (limits.RECORD_BYTES - 100)})
    with pytest.raises(limits.RecordTooLarge):
        limits.check_record({"pk": "TENANT#t1", "preview": "x" * limits.RECORD_BYTES})


def test_the_largest_bounded_record_still_fits() -> None:
    """Headers at their budget, appearing in headers, proposal and mapping, plus every other field at its cap."""
    width = limits.MAX_HEADER_CHARS - 6
    headers = [f"{n:04d}-" + "h" * (width - 5) for n in range(limits.MAX_HEADER_BYTES // (width + 4))]
    limits.check_headers(headers)
    mapping = {"dataset": "transactions", "columns": {"order_id": headers[0]}, "confidence": {"order_id": 1.0},
               "extras": headers[1:]}
    upload = _upload(headers=headers, proposal=mapping, mapping=mapping,
                     preview=[{h: "v" * 1000 for h in headers[:60]}] * 5,
                     summary={"columns": headers, "currencies": ["€" * 1000] * 1000},
                     quality={"issues": ["q" * 10_000] * 5},
                     error={"code": "x", "message": "m" * 10_000, "details": [{"text": "t" * 1000}] * 1000})
    limits.bound_upload(upload)
    item = {name: json.dumps(value) if isinstance(value, (dict, list)) else value
            for name, value in vars(upload).items()}
    limits.check_record(item)
