"""The data-quality report shown after an upload: a score, a grade, the main issues and a one-line headline."""
from __future__ import annotations

from datetime import datetime
from typing import Any

# What each reject kind means to the person who uploaded the file ("12 rows ... <phrase>; see the rejects file.").
REASONS = {
    "missing_date": "had no date",
    "bad_date": "had a date that could not be read",
    "bad_number": "had a number that could not be read",
    "bad_value": "had a value that could not be read",
    "negative_price": "had a negative unit price",
    "missing_product": "had neither a product code nor a product name",
    "missing_amount": "had neither an amount nor a unit price",
    "zero_line": "had a quantity and an amount of 0",
}
# Optional transaction columns that unlock analyses: (points at stake, sentence when absent, what a gap loses).
VALUABLE = {
    "customer_id": (15, "No customer ids: customer segments and churn will be skipped.",
                    "they count in sales totals but not in customer segments or churn"),
    "order_id": (5, "No order or invoice numbers: basket analysis (products bought together) will be skipped.",
                 "they are left out of basket analysis"),
    "category": (5, "No product categories: sales by category will be skipped.",
                 "they show as uncategorised"),
}
NOUNS = {"transactions": "sales", "traffic": "traffic"}


def quality_report(summary: dict[str, Any]) -> dict[str, Any]:
    """Score a cleaned file from its ``Cleaner.summary()``.

    Score = 100 − rejects − duplicates − outliers − gaps, rounded and clipped to 0..100, where (shares are
    of all rows read, malformed lines included):

    - rejects: 200 × share of rows rejected or malformed, at most 50 (5 % of rows rejected costs 10 points);
    - duplicates: 50 × share of exact duplicates within the file, at most 15 (rows already loaded from an
      earlier, overlapping export are normal and cost nothing);
    - outliers: 100 × share of rows flagged as outliers, at most 10;
    - gaps (transactions only): customer id 15, order id 5, category 5 points when the column is absent,
      or that many points × the share of accepted rows where it is empty.

    A file with no accepted rows scores 0. Grade: good ≥ 85, fair ≥ 60, else poor.
    """
    read, malformed = _int(summary, "rows_read"), _int(summary, "rows_malformed")
    total, accepted = read + malformed, _int(summary, "rows_accepted")
    rejected = _int(summary, "rows_rejected") + malformed
    in_file, outliers = _int(summary, "duplicates_in_file"), _int(summary, "outliers")
    issues: list[tuple[float, str]] = []

    reject_points = min(50.0, 200 * rejected / total) if total else 0.0
    for kind, count in (summary.get("reject_reasons") or {}).items():
        phrase = REASONS.get(kind, "were missing a required value" if kind.startswith("missing") else
                             "had a value that could not be used")
        issues.append((200 * count / max(total, 1) + 1, f"{_rows(count)} ({_pct(count, total)}) {phrase}; "
                                                        "see the rejects file."))
    if malformed:
        issues.append((200 * malformed / total + 1, f"{_rows(malformed)} ({_pct(malformed, total)}) could not be "
                                                    "split into columns; see the rejects file."))
    duplicate_points = min(15.0, 50 * in_file / total) if total else 0.0
    if in_file:
        what = "was an exact duplicate" if in_file == 1 else "were exact duplicates"
        issues.append((duplicate_points + 0.5, f"{_rows(in_file)} {what} and {_were(in_file)} counted once."))
    already = _int(summary, "duplicates_already_loaded")
    if already:
        issues.append((0.2, f"{_rows(already)} {_were(already)} already loaded from an earlier file and "
                            f"{_were(already, 'was', 'were')} skipped."))
    outlier_points = min(10.0, 100 * outliers / total) if total else 0.0
    if outliers:
        issues.append((outlier_points + 0.3, f"{_rows(outliers)} {_were(outliers, 'has', 'have')} a price or "
                                             "quantity far outside the product's usual range; they are flagged, "
                                             "not removed."))
    gap_points = 0.0
    if summary.get("dataset", "transactions") == "transactions":
        columns, empty = set(summary.get("columns") or []), summary.get("empty_values") or {}
        for column, (points, absent, loss) in VALUABLE.items():
            if column not in columns:
                gap_points += points
                issues.append((points, absent))
            elif accepted and empty.get(column):
                share = empty[column] / accepted
                gap_points += points * share
                issues.append((points * share, f"{_pct(empty[column], accepted)} of rows have no "
                                               f"{column.replace('_', ' ')}; {loss}."))
        currencies = summary.get("currencies") or []
        if len(currencies) > 1:
            issues.append((4, f"Prices are in {len(currencies)} currencies ({', '.join(currencies)}); totals add "
                              "them up without conversion."))
    days = _days(summary)
    if accepted and days is not None and days < 60 and summary.get("dataset", "transactions") == "transactions":
        issues.append((3, f"The sales cover only {days + 1} day{'s' if days else ''}: trends and forecasts need "
                          "several months."))

    score = 0 if not accepted else round(max(0.0, min(100.0, 100 - reject_points - duplicate_points -
                                                      outlier_points - gap_points)))
    if not accepted:
        issues.insert(0, (1000, "No rows could be loaded; see the rejects file for what to fix." if total else
                          "The file has no data rows below its header."))
    issues.sort(key=lambda issue: -issue[0])
    return {"score": int(score), "grade": "good" if score >= 85 else "fair" if score >= 60 else "poor",
            "issues": [text for _, text in issues[:5]], "headline": _headline(summary, accepted, total)}


def _headline(summary: dict[str, Any], accepted: int, total: int) -> str:
    """"9,912 of 10,000 rows loaded; 2 years of sales (Jan 2023 – Dec 2024), 412 customers, 48 products."""
    parts = []
    noun = NOUNS.get(summary.get("dataset", "transactions"))
    first, last = _date(summary.get("date_from")), _date(summary.get("date_to"))
    if noun and first and last:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        days = (last - first).days + 1
        length = (f"{int(months / 12 + 0.5)} years" if months >= 24 else "1 year" if months == 12 else
                  f"{months} months" if days >= 60 else f"{days} day{'s' if days > 1 else ''}")
        span = first.strftime("%b %Y") if months == 1 else f"{first:%b %Y} – {last:%b %Y}"
        parts.append(f"{length} of {noun} ({span})")
    for key, word in (("customers", "customer"), ("products", "product")):
        if summary.get(key):
            parts.append(f"{summary[key]:,} {word}{'s' if summary[key] != 1 else ''}")
    loaded = f"{accepted:,} of {total:,} rows loaded"
    return f"{loaded}; {', '.join(parts)}." if parts else f"{loaded}."


def _days(summary: dict[str, Any]) -> int | None:
    first, last = _date(summary.get("date_from")), _date(summary.get("date_to"))
    return (last - first).days if first and last else None


def _date(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _int(summary: dict[str, Any], key: str) -> int:
    return int(summary.get(key) or 0)


def _rows(count: int) -> str:
    return f"{count:,} row{'s' if count != 1 else ''}"


def _were(count: int, one: str = "was", many: str = "were") -> str:
    return one if count == 1 else many


def _pct(part: int, whole: int) -> str:
    share = 100 * part / whole if whole else 0.0
    return "< 0.1 %" if 0 < share < 0.1 else f"{share:.1f} %".replace(".0 %", " %")
