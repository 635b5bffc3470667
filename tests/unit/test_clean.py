"""Row cleaning: each rule on a tiny hand-made frame, and the conservation law under fuzzing."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.errors import ValidationFailed
from chalicelib.ingest.clean import Cleaner, CleanResult


def frame(**columns: list) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype=object)


def sale(n: int = 1, **overrides: list) -> pd.DataFrame:
    """``n`` valid transaction rows, with some columns replaced."""
    base = {"ts": ["2024-03-01"] * n, "product_id": [f"P{i}" for i in range(n)], "quantity": ["1"] * n,
            "unit_price": ["10.00"] * n}
    return frame(**{**base, **overrides})


def clean(df: pd.DataFrame, dataset: str = "transactions", **kwargs) -> tuple[CleanResult, dict]:
    cleaner = Cleaner(dataset, df, **kwargs)
    result = cleaner.clean(df)
    return result, cleaner.summary()


def conserved(summary: dict) -> bool:
    return summary["rows_read"] == (summary["rows_accepted"] + summary["rows_rejected"] +
                                    summary["duplicates_in_file"] + summary["duplicates_already_loaded"])


# -- numbers ---------------------------------------------------------------------------------------------------
def test_decimal_comma_decided_from_the_sample():
    result, summary = clean(sale(3, unit_price=["1.234,50", "12,5", "€ 2,55"]))
    assert summary["number_format"] == "decimal_comma"
    assert result.accepted["unit_price"].tolist() == [1234.5, 12.5, 2.55]


def test_decimal_point_with_thousands_and_currency():
    result, summary = clean(sale(4, unit_price=["1,234.50", "$1,200", "12.00 EUR", "(12.00)"],
                                 quantity=["1", "1", "1", "-1"]))
    assert summary["number_format"] == "decimal_point"
    assert result.accepted["unit_price"].tolist()[:3] == [1234.5, 1200.0, 12.0]
    assert result.rejects["reason"].str.contains("negative").tolist() == [True]  # (12.00) is a negative price


def test_parentheses_make_a_negative_amount_a_return():
    result, _ = clean(sale(1, unit_price=[None], quantity=[None]).assign(amount=["(12.00)"]))
    row = result.accepted.iloc[0]
    assert (row["amount"], row["quantity"], row["unit_price"], row["is_return"]) == (-12.0, -1.0, 12.0, True)


def test_non_numeric_quantity_is_rejected_with_its_value():
    result, summary = clean(sale(2, quantity=["abc", "2"]))
    assert result.rejects.to_dict("records") == [
        {"row": 2, "column": "quantity", "value": "abc", "reason": "quantity 'abc' is not a number"}]
    assert summary["reject_reasons"] == {"bad_number": 1} and len(result.accepted) == 1


# -- dates -----------------------------------------------------------------------------------------------------
def test_day_first_when_a_first_field_is_over_12():
    result, summary = clean(sale(2, ts=["31/12/2024", "05/01/2024 14:05"]))
    assert summary["date_order"] == "day_first"
    assert result.accepted["ts"].tolist() == [pd.Timestamp("2024-12-31"), pd.Timestamp("2024-01-05 14:05")]


def test_month_first_when_a_second_field_is_over_12():
    result, summary = clean(sale(3, ts=["12/31/2024 2:05 PM", "01/05/2024", "1/6/2024 11:00 AM"]))
    assert summary["date_order"] == "month_first"
    assert result.accepted["ts"].tolist() == [pd.Timestamp("2024-12-31 14:05"), pd.Timestamp("2024-01-05"),
                                              pd.Timestamp("2024-01-06 11:00")]


def test_iso_with_time_zone_becomes_naive_utc():
    result, _ = clean(sale(3, ts=["2024-12-31T14:05:00+01:00", "2024-12-31 14:05", "2024-06-01T08:00:00Z"]))
    assert str(result.accepted["ts"].dtype) == "datetime64[us]"
    assert result.accepted["ts"].tolist() == [pd.Timestamp("2024-12-31 13:05"), pd.Timestamp("2024-12-31 14:05"),
                                              pd.Timestamp("2024-06-01 08:00")]


def test_dotted_and_two_digit_years():
    result, _ = clean(sale(2, ts=["31.12.2024", "5/1/24"]))
    assert result.accepted["ts"].tolist() == [pd.Timestamp("2024-12-31"), pd.Timestamp("2024-01-05")]


def test_excel_serial_numbers_when_the_column_is_all_numbers():
    result, summary = clean(sale(2, ts=["45291", "45291.5"]))
    assert summary["date_order"] == "serial"
    assert result.accepted["ts"].tolist() == [pd.Timestamp("2023-12-31"), pd.Timestamp("2023-12-31 12:00")]


def test_impossible_dates_are_rejected():
    result, summary = clean(sale(4, ts=["32/13/2024", "31/02/2024", "29/02/2024", "soon"]))
    reasons = result.rejects["reason"].tolist()
    assert reasons == ["date '32/13/2024' is not a valid date", "date '31/02/2024' is not a valid date",
                       "date 'soon' is not a valid date"]
    assert result.accepted["ts"].tolist() == [pd.Timestamp("2024-02-29")]
    assert summary["reject_reasons"] == {"bad_date": 3}


def test_later_chunks_use_the_formats_decided_on_the_sample():
    sample = sale(1, ts=["31/12/2024"])
    cleaner = Cleaner("transactions", sample)
    later = cleaner.clean(sale(1, ts=["01/02/2024"]).set_axis([500]))
    assert later.accepted["ts"].tolist() == [pd.Timestamp("2024-02-01")]
    assert later.accepted.index.tolist() == [500]


# -- rejects and derivations -----------------------------------------------------------------------------------
def test_negative_price_is_rejected_negative_quantity_is_a_return():
    result, summary = clean(sale(2, unit_price=["-5.00", "5.00"], quantity=["2", "-2"]))
    assert result.rejects["reason"].tolist() == [
        "unit price '-5.00' is negative; record a return with a negative quantity instead"]
    assert result.accepted["is_return"].tolist() == [True] and summary["returns"] == 1
    assert summary["reject_reasons"] == {"negative_price": 1}


def test_cancellation_invoice_is_a_return():
    result, summary = clean(sale(2, order_id=["C536379", "536380"]))
    assert result.accepted["is_return"].tolist() == [True, False] and summary["returns"] == 1


def test_missing_groups_one_line_per_problem():
    df = sale(3, ts=[None, "2024-01-01", None], product_id=[None, None, "A"], unit_price=[None, "1", None])
    result, summary = clean(df)
    lines = result.rejects[["row", "column", "reason"]].values.tolist()
    assert lines == [[2, "ts", "missing date"],
                     [2, "amount/unit_price", "missing both amount and unit price"],
                     [2, "product_id/product_name", "missing both product code and product name"],
                     [3, "product_id/product_name", "missing both product code and product name"],
                     [4, "ts", "missing date"],
                     [4, "amount/unit_price", "missing both amount and unit price"]]
    assert summary["rows_rejected"] == 3
    assert summary["reject_reasons"] == {"missing_date": 2, "missing_amount": 2, "missing_product": 2}


def test_zero_quantity_with_zero_amount_is_rejected():
    df = sale(3, quantity=["0", "0", "0"], unit_price=["5", None, "5"]).assign(amount=[None, "0", "5"])
    result, summary = clean(df)
    assert summary["reject_reasons"] == {"zero_line": 2} and result.rejects["row"].tolist() == [2, 3]
    assert result.rejects["reason"].tolist()[0] == "quantity '0' with an amount of 0 records no sale"
    assert result.accepted["amount"].tolist() == [5.0]  # a fee line without units is kept


def test_amount_and_price_derived():
    df = sale(3, quantity=["3", "4", None], unit_price=["0.10", None, "2.50"]).assign(amount=[None, "10", "5"])
    result, _ = clean(df)
    got = result.accepted[["quantity", "unit_price", "amount"]].values.tolist()
    assert got == [[3.0, 0.1, 0.3], [4.0, 2.5, 10.0], [2.0, 2.5, 5.0]]


def test_text_tidied_and_float_ids_restored():
    df = sale(2, product_name=["  White   heart\tlamp ", ""], customer_id=["17850.0", " N/A "],
              order_id=["536365", "536366.0"])
    result, summary = clean(df)
    accepted = result.accepted
    assert accepted["product_name"].tolist()[0] == "White heart lamp" and pd.isna(accepted["product_name"][1])
    assert accepted["customer_id"].tolist()[0] == "17850" and pd.isna(accepted["customer_id"][1])
    assert accepted["order_id"].tolist() == ["536365", "536366"]
    assert summary["customers"] == 1 and summary["empty_values"]["customer_id"] == 1


def test_currency_from_column_else_tenant_default_else_null():
    with_column, summary = clean(sale(2).assign(currency=["eur", None]), currency="USD")
    assert with_column.accepted["currency"].tolist() == ["EUR", "USD"]
    assert summary["currencies"] == ["EUR", "USD"]
    assert clean(sale(1), currency="gbp")[0].accepted["currency"].tolist() == ["GBP"]
    assert clean(sale(1))[0].accepted["currency"].isna().all()


def test_extra_columns_carried_as_text_and_types():
    result, _ = clean(sale(2).assign(Notes=["gift", None], is_return=["x", "y"]))
    accepted = result.accepted
    assert accepted["Notes"].tolist()[0] == "gift" and pd.isna(accepted["Notes"][1])
    assert accepted["is_return_raw"].tolist() == ["x", "y"]
    assert str(accepted["Notes"].dtype) == "str"
    assert {c: str(accepted[c].dtype) for c in ("ts", "quantity", "is_return", "is_outlier", "row_fingerprint",
                                                "product_id")} == {
        "ts": "datetime64[us]", "quantity": "float64", "is_return": "bool", "is_outlier": "bool",
        "row_fingerprint": "int64", "product_id": "str"}


def test_sample_without_a_required_column_is_a_clear_error():
    with pytest.raises(ValidationFailed, match="date"):
        Cleaner("transactions", frame(product_id=["A"], amount=["1"]))


# -- outliers --------------------------------------------------------------------------------------------------
def test_outlier_flagged_within_its_product_not_dropped():
    prices = ["10.00", "10.50", "9.50", "10.20", "9.80", "10.10", "500.00"]
    df = sale(9, product_id=["A"] * 7 + ["B", "B"], unit_price=prices + ["900", "1"], order_id=list("abcdefghi"))
    result, summary = clean(df)
    assert result.accepted["is_outlier"].tolist() == [False] * 6 + [True, False, False]  # B has < 5 rows
    assert summary["outliers"] == 1


def test_identical_values_flag_nothing():
    result, _ = clean(sale(6, product_id=["A"] * 6, order_id=list("abcdef")))
    assert not result.accepted["is_outlier"].any()


# -- duplicates and fingerprints -------------------------------------------------------------------------------
def test_fingerprint_ignores_formatting():
    comma = clean(sale(1, unit_price=["1.234,50"], ts=["31/12/2024"], product_id=[" P0 "]))[0]
    point = clean(sale(1, unit_price=["1234.5"], ts=["2024-12-31"], product_id=["P0"]).assign(amount=["1234.50"]))[0]
    assert comma.accepted["row_fingerprint"].iloc[0] == point.accepted["row_fingerprint"].iloc[0]
    other = clean(sale(1, unit_price=["1234.51"], ts=["2024-12-31"]))[0]
    assert other.accepted["row_fingerprint"].iloc[0] != point.accepted["row_fingerprint"].iloc[0]


def test_fingerprint_is_stable_across_cleaners_and_chunks():
    df = sale(3)
    first = Cleaner("transactions", df).clean(df).accepted["row_fingerprint"].tolist()
    again = Cleaner("transactions", df).clean(df.iloc[1:]).accepted["row_fingerprint"].tolist()
    assert first[1:] == again and len(set(first)) == 3


def test_duplicates_within_the_file_across_chunks():
    df = sale(2)
    cleaner = Cleaner("transactions", df)
    assert len(cleaner.clean(pd.concat([df, df.iloc[:1]], ignore_index=True)).accepted) == 2
    assert len(cleaner.clean(df.set_axis([3, 4])).accepted) == 0
    summary = cleaner.summary()
    assert summary["duplicates_in_file"] == 3 and summary["rows_accepted"] == 2 and conserved(summary)
    assert summary["rows_rejected"] == 0


def test_chunks_checked_in_parallel_give_what_one_at_a_time_gives():
    df = sale(60, ts=[f"2024-01-{d % 28 + 1:02d}" for d in range(60)],
              quantity=[str(n % 4 - 1) if n % 7 else "x" for n in range(60)],
              product_id=[f"P{n % 5}" for n in range(60)])
    chunks = [df.iloc[i:i + 8] for i in range(0, 60, 8)] + [df.iloc[:8]]  # the repeat: duplicates and rejects
    one, many = Cleaner("transactions", df), Cleaner("transactions", df)
    serial = [one.clean(chunk) for chunk in chunks]
    parallel = list(many.clean_all(iter(chunks), workers=3))
    for a, b in zip(serial, parallel, strict=True):
        pd.testing.assert_frame_equal(a.accepted, b.accepted)
        pd.testing.assert_frame_equal(a.rejects, b.rejects)
    assert one.summary() == many.summary()
    assert many.summary()["duplicates_in_file"] == len(serial[0].accepted) > 0 and not len(serial[-1].accepted)


def test_duplicates_already_in_the_lake():
    df = sale(3)
    prints = Cleaner("transactions", df).clean(df).accepted["row_fingerprint"].to_numpy()
    known = np.sort(prints[:2])
    result, summary = clean(df, known_fingerprints=known[::-1])  # unsorted input is sorted, not trusted
    assert result.accepted["product_id"].tolist() == ["P2"]
    assert summary["duplicates_already_loaded"] == 2 and conserved(summary)


# -- bookkeeping -----------------------------------------------------------------------------------------------
def test_rows_are_spreadsheet_rows_and_every_row_is_counted_once():
    df = sale(5, ts=["2024-01-01", "bad", "2024-01-02", None, "2024-01-01"],
              quantity=["1", "x", "1", "1", "1"], product_id=["A", "B", "C", "D", "A"]).set_axis(range(10, 15))
    cleaner = Cleaner("transactions", df)
    result = cleaner.clean(df)
    summary = cleaner.summary()
    assert sorted(set(result.rejects["row"])) == [13, 15]  # index + 2
    assert result.accepted.index.tolist() == [10, 12]
    assert set(result.accepted.index + 2).isdisjoint(result.rejects["row"])
    assert summary["duplicates_in_file"] == 1 and conserved(summary)


def test_summary_is_json_and_complete():
    df = sale(3, ts=["2023-01-05", "2024-12-20", "2024-06-01"], customer_id=["c1", "c2", "c1"]).assign(
        amount=["10", "10", "-10"])
    cleaner = Cleaner("transactions", df, currency="EUR")
    cleaner.clean(df)
    summary = json.loads(json.dumps(cleaner.summary()))
    assert summary["date_from"] == "2023-01-05T00:00:00" and summary["date_to"] == "2024-12-20T00:00:00"
    assert (summary["customers"], summary["products"], summary["revenue"], summary["currency"]) == (2, 3, 10.0, "EUR")
    assert summary["returns"] == 1 and summary["date_order"] == "year_first"


def test_other_datasets_parse_by_kind():
    traffic = frame(date=["2024-01-05", "2024-1-6", "06/01/2024 10:00"], visits=["1,200", "2.5", "7"])
    result, summary = clean(traffic, dataset="traffic")
    assert result.accepted["visits"].tolist() == [1200, 7] and str(result.accepted["visits"].dtype) == "Int64"
    assert result.rejects["reason"].tolist() == ["visits '2.5' is not a whole number"]
    assert result.accepted["date"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-06")]
    prospects = frame(prospect_id=["1", "2", "3"], converted=["yes", "No", "maybe"])
    result, summary = clean(prospects, dataset="prospects")
    assert result.accepted["converted"].tolist() == [True, False]
    assert summary["reject_reasons"] == {"bad_value": 1} and "is_return" not in result.accepted


def test_empty_chunk():
    df = sale(2)
    cleaner = Cleaner("transactions", df)
    result = cleaner.clean(df.iloc[0:0])
    assert result.accepted.empty and result.rejects.empty
    assert list(result.rejects.columns) == ["row", "column", "value", "reason"]


# -- fuzzing ---------------------------------------------------------------------------------------------------
cell = st.one_of(
    st.none(), st.text(max_size=12),
    st.sampled_from(["", " ", "N/A", "-", "0", "-1", "1,5", "1.234,50", "(3.00)", "€ 12", "abc", "17850.0",
                     "C536379", "31/12/2024", "12/31/2024 2:05 PM", "2024-12-31T14:05:00+01:00", "45291",
                     "32/13/2024", "1e400", "  a  b "]),
    st.floats(allow_nan=True, allow_infinity=True).map(str), st.integers(-10**6, 10**6).map(str),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")))
COLUMNS = ["order_id", "customer_id", "product_name", "category", "amount", "currency", "Extra"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_frames_never_raise_and_conserve_rows(data):
    rows = data.draw(st.integers(0, 12))
    optional = data.draw(st.lists(st.sampled_from(COLUMNS), unique=True))
    names = ["ts", "product_id", "quantity", "unit_price", *optional]
    df = frame(**{name: data.draw(st.lists(cell, min_size=rows, max_size=rows)) for name in names})
    cleaner = Cleaner("transactions", df.head(data.draw(st.integers(0, rows))))
    half = rows // 2
    results = [cleaner.clean(df.iloc[:half]), cleaner.clean(df.iloc[half:])]
    summary = cleaner.summary()
    assert conserved(summary) and summary["rows_read"] == rows
    accepted = [i for r in results for i in r.accepted.index]
    rejected = {row - 2 for r in results for row in r.rejects["row"]}
    assert len(accepted) == summary["rows_accepted"] and rejected.isdisjoint(accepted)
    assert len(rejected) == summary["rows_rejected"]
    for r in results:
        assert list(r.rejects.columns) == ["row", "column", "value", "reason"]
        assert r.accepted["row_fingerprint"].dtype == np.int64
    json.dumps(summary)


def test_sorted_runs_answer_like_one_set_and_stay_few():
    from chalicelib.ingest.fingerprints import SortedRuns

    rng = np.random.default_rng(3)
    runs, seen = SortedRuns(), np.empty(0, dtype=np.int64)
    for size in [5, 1, 300, 7, 7, 7, 1000, 2, 50] * 5:
        chunk = rng.integers(-10**6, 10**6, size)
        probe = rng.integers(-10**6, 10**6, 400)
        probe[:min(size // 2, 200)] = chunk[:min(size // 2, 200)]
        assert (runs.contains(probe) == np.isin(probe, seen)).all()
        runs.add(chunk)
        seen = np.concatenate([seen, chunk])
    assert (runs.contains(seen)).all() and len(runs._runs) <= 12
