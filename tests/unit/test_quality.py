"""The quality report: score formula, grade, issue sentences in order of importance, and the headline."""
from __future__ import annotations

import pandas as pd

from chalicelib.ingest.clean import Cleaner
from chalicelib.ingest.quality import quality_report

ALL_COLUMNS = ["order_id", "ts", "customer_id", "product_id", "category", "quantity", "unit_price"]


def summary(**overrides) -> dict:
    base = {"dataset": "transactions", "rows_read": 10_000, "rows_accepted": 10_000, "rows_rejected": 0,
            "duplicates_in_file": 0, "duplicates_already_loaded": 0, "returns": 0, "outliers": 0,
            "date_from": "2023-01-03T10:00:00", "date_to": "2024-12-30T00:00:00", "customers": 412,
            "products": 48, "revenue": 1000.0, "currency": "EUR", "currencies": ["EUR"], "reject_reasons": {},
            "columns": ALL_COLUMNS, "empty_values": {}}
    return {**base, **overrides}


def test_clean_file_is_good_with_the_headline():
    report = quality_report(summary())
    assert (report["score"], report["grade"], report["issues"]) == (100, "good", [])
    assert report["headline"] == ("10,000 of 10,000 rows loaded; 2 years of sales (Jan 2023 – Dec 2024), "
                                  "412 customers, 48 products.")


def test_rejects_cost_points_and_are_explained():
    report = quality_report(summary(rows_accepted=9_912, rows_rejected=88,
                                    reject_reasons={"bad_date": 12, "negative_price": 76}))
    assert report["score"] == 98  # 100 − 200 × 0.0088
    assert report["issues"] == ["76 rows (0.8 %) had a negative unit price; see the rejects file.",
                                "12 rows (0.1 %) had a date that could not be read; see the rejects file."]
    assert report["headline"].startswith("9,912 of 10,000 rows loaded; ")


def test_missing_valuable_columns_lead_the_issues():
    report = quality_report(summary(columns=["ts", "product_id", "unit_price"], duplicates_in_file=35,
                                    rows_accepted=9_965))
    assert report["issues"][:3] == ["No customer ids: customer segments and churn will be skipped.",
                                    "No order or invoice numbers: basket analysis (products bought together) "
                                    "will be skipped.",
                                    "No product categories: sales by category will be skipped."]
    assert "35 rows were exact duplicates and were counted once." in report["issues"]
    assert report["score"] == 75 and report["grade"] == "fair"  # 100 − 15 − 5 − 5 − 50 × 0.0035


def test_partly_empty_column_costs_its_share():
    report = quality_report(summary(empty_values={"customer_id": 5_000}))
    assert report["score"] == 92  # 100 − 15 × 0.5
    assert report["issues"] == ["50 % of rows have no customer id; they count in sales totals but not in "
                                "customer segments or churn."]


def test_heavy_rejects_are_poor_and_at_most_five_issues():
    reasons = {"bad_date": 2_000, "bad_number": 1_000, "missing_product": 500, "missing_amount": 100,
               "zero_line": 10, "missing_date": 5}
    report = quality_report(summary(rows_accepted=6_385, rows_rejected=3_615, reject_reasons=reasons,
                                    outliers=30))
    assert report["grade"] == "poor" and len(report["issues"]) == 5
    assert report["score"] == 50  # rejects capped at 50 points, outliers 100 × 0.003
    assert report["issues"][0] == "2,000 rows (20 %) had a date that could not be read; see the rejects file."


def test_nothing_loaded_scores_zero():
    report = quality_report(summary(rows_accepted=0, rows_rejected=10_000, reject_reasons={"missing_date": 10_000},
                                    date_from=None, date_to=None, customers=0, products=0))
    assert (report["score"], report["grade"]) == (0, "poor")
    assert report["issues"][0] == "No rows could be loaded; see the rejects file for what to fix."
    assert report["headline"] == "0 of 10,000 rows loaded."
    assert quality_report({})["issues"][0] == "The file has no data rows below its header."


def test_short_spans_and_other_notes():
    report = quality_report(summary(date_from="2024-03-01T00:00:00", date_to="2024-03-12T00:00:00",
                                    duplicates_already_loaded=1, outliers=3, currencies=["EUR", "USD"],
                                    rows_malformed=2))
    assert report["headline"] == ("10,000 of 10,002 rows loaded; 12 days of sales (Mar 2024), 412 customers, "
                                  "48 products.")
    assert set(report["issues"]) == {
        "Prices are in 2 currencies (EUR, USD); totals add them up without conversion.",
        "The sales cover only 12 days: trends and forecasts need several months.",
        "2 rows (< 0.1 %) could not be split into columns; see the rejects file.",
        "3 rows have a price or quantity far outside the product's usual range; they are flagged, not removed.",
        "1 row was already loaded from an earlier file and was skipped."}


def test_other_datasets_have_no_column_gaps():
    report = quality_report({"dataset": "customers", "rows_read": 40, "rows_accepted": 40, "columns": ["customer_id"],
                             "customers": 40})
    assert (report["score"], report["issues"], report["headline"]) == (100, [], "40 of 40 rows loaded; 40 customers.")


def test_report_from_a_real_cleaner_summary():
    df = pd.DataFrame({"ts": ["2024-01-05", "bad", "2024-02-01"], "product_id": ["A", "B", "A"],
                       "quantity": ["1", "1", "2"], "unit_price": ["3", "4", "3"]}, dtype=object)
    cleaner = Cleaner("transactions", df)
    cleaner.clean(df)
    report = quality_report(cleaner.summary())
    assert report["grade"] == "poor"  # a third of the rows rejected, no customer ids
    assert report["headline"] == "2 of 3 rows loaded; 28 days of sales (Jan 2024 – Feb 2024), 1 product."
    assert report["issues"][0] == "1 row (33.3 %) had a date that could not be read; see the rejects file."
