"""Row validation and cleaning: raw text chunks in, typed accepted rows and row-by-row rejects out.

Each column is dictionary-encoded first (:mod:`chalicelib.ingest.encoded`), so tidying, parsing
(:mod:`chalicelib.ingest.values`) and hashing (:mod:`chalicelib.ingest.fingerprints`) run once per distinct
value; nothing loops over rows in Python.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from chalicelib.errors import ValidationFailed
from chalicelib.ingest.encoded import TEXT_NULLS, VALUE_NULLS, Encoded, arrow_text, tidy
from chalicelib.ingest.fingerprints import NULL_HASH, SortedRuns, combine, hash_numbers, isin_sorted
from chalicelib.ingest.prefetch import mapped
from chalicelib.ingest.schema import DATASETS, DATE, INTEGER, NUMBER, TEXT, TIMESTAMP
from chalicelib.ingest.values import (
    DAY_US,
    NAT,
    STR,
    DateParser,
    decimal_comma,
    matches,
    parse_booleans,
    parse_numbers,
)
from chalicelib.money import CURRENCY_SYMBOLS

LABELS = {"ts": "date", "unit_price": "unit price", "product_id": "product code", "product_name": "product name",
          "customer_id": "customer id", "order_id": "order id"}
MISSING = {("ts",): ("missing_date", "missing date"),
           ("amount", "unit_price"): ("missing_amount", "missing both amount and unit price"),
           ("product_id", "product_name"): ("missing_product", "missing both product code and product name")}


@dataclass
class CleanResult:
    accepted: pd.DataFrame
    rejects: pd.DataFrame


@dataclass
class Checked:
    """A chunk validated and typed, waiting for de-duplication (which needs the file's earlier chunks)."""

    chunk: pd.DataFrame
    rows: np.ndarray  # the spreadsheet row number of each line
    rejects: Rejects
    typed: dict[str, Any]
    keep: np.ndarray  # positions of the rows without problems
    prints: np.ndarray  # row fingerprints of the kept rows
    flags: dict[str, np.ndarray]  # is_return, is_outlier of the kept rows


def label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " "))


def outliers(codes: np.ndarray, columns: dict[str, np.ndarray], min_rows: int = 5, k: float = 5.0) -> np.ndarray:
    """|x − median| > k × 1.4826 × MAD within each product (``codes``) that has ≥ ``min_rows`` rows.

    Statistics are per chunk: the cleaner keeps no per-product state across chunks. When a product's MAD is
    0 (most rows identical) the scale falls back to 1.2533 × mean absolute deviation, so one odd value still
    stands out while a product whose values are all identical flags nothing.
    """
    grouped = codes >= 0
    flag = np.zeros(len(codes), dtype=bool)
    if not grouped.any():
        return flag
    codes = codes[grouped]
    far = np.zeros(len(codes), dtype=bool)
    for values in columns.values():
        values = values[grouped]
        deviation = np.abs(values - pd.Series(values).groupby(codes).median().to_numpy()[codes])
        mad = pd.Series(deviation).groupby(codes).median().to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_ad = (np.bincount(codes, weights=np.nan_to_num(deviation)) /
                       np.bincount(codes, weights=~np.isnan(deviation)))
            scale = np.where(mad > 0, 1.4826 * mad, 1.2533 * mean_ad)[codes]
            far |= (deviation > k * scale) & (scale > 0)
    flag[grouped] = far & (np.bincount(codes)[codes] >= min_rows)
    return flag


class Rejects:
    """The problems found in one chunk: one line per problem, and which rows have at least one."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        self.bad = np.zeros(len(rows), dtype=bool)
        self.codes: Counter[str] = Counter()
        self._frames: list[pd.DataFrame] = []

    def add(self, mask: np.ndarray, column: str, code: str, values: Encoded | None, prefix: str,
            suffix: str = "") -> None:
        """One line per row in ``mask``; the reason quotes the value as written, between prefix and suffix."""
        at = np.flatnonzero(mask)
        if not at.size:
            return
        value = pd.Series(values.rows(at).to_pandas() if values else [""] * at.size, dtype="str").fillna("")
        reason = prefix + value + suffix if values else pd.Series([prefix] * at.size, dtype="str")
        self._frames.append(pd.DataFrame({"row": self.rows[at], "column": pd.Series([column] * at.size, dtype="str"),
                                          "value": value, "reason": reason}))
        self.bad[at] = True
        self.codes[code] += int(at.size)

    def frame(self) -> pd.DataFrame:
        if not self._frames:
            return pd.DataFrame({"row": pd.Series(dtype=np.int64), "column": pd.Series(dtype="str"),
                                 "value": pd.Series(dtype="str"), "reason": pd.Series(dtype="str")})
        return pd.concat(self._frames, ignore_index=True).sort_values("row", kind="stable", ignore_index=True)


class Cleaner:
    """Validates, types and de-duplicates the chunks of ONE file or batch, keeping its running totals.

    Number and date formats are decided once, from ``sample``, so every chunk is read the same way.
    Transactions get missing money fields derived: amount = quantity × unit price; unit price = amount /
    quantity; a missing quantity is amount / unit price when both are known, else 1 (−1 when the amount is
    negative, so a return keeps a positive price). Duplicates are counted, not rejected; a row is a
    duplicate when its fingerprint (over the dataset's canonical columns only, not the extras) was seen
    earlier in this file or is in ``known_fingerprints``.
    """

    def __init__(self, dataset: str, sample: pd.DataFrame, known_fingerprints: np.ndarray | None = None,
                 currency: str | None = None) -> None:
        if dataset not in DATASETS:
            raise ValidationFailed(f"Unknown dataset '{dataset}'. Choose one of: {', '.join(DATASETS)}.")
        self.dataset = DATASETS[dataset]
        self.currency = currency.strip().upper() if currency and currency.strip() else None
        missing = self.dataset.missing_requirements(set(sample.columns))
        if missing:
            names = "; ".join(" or ".join(label(c) for c in group) for group in missing)
            raise ValidationFailed(f"The file has no column for: {names}. Map a column to it and try again.",
                                   details=[{"columns": list(group)} for group in missing])
        self._kinds = {c.name: c.kind for c in self.dataset.columns}
        numbers = [tidy(arrow_text(sample[c]), VALUE_NULLS).drop_null() for c in sample.columns
                   if self._kinds.get(c) in (NUMBER, INTEGER)]
        self.decimal_comma = decimal_comma(pa.concat_arrays(numbers).to_pylist() if numbers else [])
        self._dates = {c: DateParser(tidy(arrow_text(sample[c]), VALUE_NULLS)) for c in sample.columns
                       if self._kinds.get(c) in (TIMESTAMP, DATE)}
        known = np.asarray(known_fingerprints if known_fingerprints is not None else [], dtype=np.int64)
        self._known = known if np.all(known[1:] >= known[:-1]) else np.sort(known)
        self._seen = SortedRuns()
        self._counts: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()
        self._currencies: Counter[str] = Counter()
        self._empty: Counter[str] = Counter()
        self._customers: set[str] = set()
        self._products: set[str] = set()
        self._columns = [c for c in self.dataset.column_names if c in sample.columns]
        self._span: list[int] = []
        self._revenue = 0.0

    # -- one chunk ----------------------------------------------------------------------------------------
    def clean(self, chunk: pd.DataFrame) -> CleanResult:
        """Typed accepted rows (duplicates removed) and one reject line per problem found."""
        return self.accept(self.check(chunk))

    def check(self, chunk: pd.DataFrame) -> Checked:
        """Validate and type one chunk. Touches no running totals, so several chunks may be checked at once (the
        one thing it may add is the date parser of a column the sample lacked: the same parser either way)."""
        n = len(chunk)
        integer_index = pd.api.types.is_integer_dtype(chunk.index)
        rows = (np.asarray(chunk.index, dtype=np.int64) if integer_index else np.arange(n, dtype=np.int64)) + 2
        rejects = Rejects(rows)
        columns = {name: Encoded.of(chunk[name], TEXT_NULLS if kind == TEXT else VALUE_NULLS,
                                    per_row_if_distinct=kind in (TIMESTAMP, DATE))
                   for name, kind in self._kinds.items() if name in chunk.columns}
        typed = {name: self._parse(name, column, rejects) for name, column in columns.items()}
        for group in self.dataset.required:
            have = np.zeros(n, dtype=bool)
            for name in group:
                if name in columns:
                    have |= columns[name].valid
            code, reason = MISSING.get(group, (f"missing_{group[0]}", "missing " + " and ".join(map(label, group))))
            rejects.add(~have, "/".join(group), code, None, reason)
        if self.dataset.name == "transactions":
            self._transaction_rules(columns, typed, n, rejects)
        keep = np.flatnonzero(~rejects.bad)
        hashes = {name: values.hashes()[keep] if isinstance(values, Encoded) else hash_numbers(values[keep])
                  for name, values in typed.items()}
        prints = combine([hashes.get(name, np.full(keep.size, NULL_HASH)) for name in self.dataset.column_names],
                         keep.size)
        return Checked(chunk, rows, rejects, typed, keep, prints, self._flags(typed, keep, hashes))

    def accept(self, checked: Checked) -> CleanResult:
        """De-duplicate against the lake and the file so far, and count. Chunks must arrive in file order."""
        chunk, rows, rejects, typed, keep = checked.chunk, checked.rows, checked.rejects, checked.typed, checked.keep
        fresh = self._first_sightings(checked.prints)
        flags = {name: values[fresh] for name, values in checked.flags.items()}
        accepted = self._frame(chunk, typed, keep[fresh], flags, checked.prints[fresh])
        accepted.index = pd.Index(rows[keep[fresh]] - 2)
        self._counts["rows_read"] += len(chunk)
        self._counts["rows_rejected"] += int(rejects.bad.sum())
        self._reasons.update(rejects.codes)
        self._tally(typed, keep[fresh], accepted)
        return CleanResult(accepted=accepted, rejects=rejects.frame())

    def clean_all(self, chunks: Iterator[pd.DataFrame], workers: int = 2) -> Iterator[CleanResult]:
        """``clean`` every chunk, checking ``workers`` chunks at once; results come in file order."""
        return map(self.accept, mapped(self.check, chunks, workers))

    def _parse(self, name: str, column: Encoded, rejects: Rejects) -> Encoded | np.ndarray:
        """Text stays ``Encoded``; numbers become float64, dates int64 microseconds, booleans 1.0/0.0."""
        kind, what = self._kinds[name], label(name)
        if kind == TEXT:
            if name.endswith("_id"):  # 17850.0 from a column a spreadsheet stored as numbers
                column = column.map(lambda u: pc.replace_substring_regex(u, r"^(-?\d+)\.0+$", r"\1"))
            if name == "currency":
                column = column.map(_currency_codes)
            return column
        if kind in (NUMBER, INTEGER):
            values, bad = parse_numbers(column.uniques, self.decimal_comma)
            rejects.add(column.per_row(bad), name, "bad_number", column, f"{what} '", "' is not a number")
            if kind == INTEGER:
                fraction = np.isfinite(values) & (values != np.round(values))
                huge = np.abs(np.nan_to_num(values)) >= 2**53  # beyond exact integers in float64
                rejects.add(column.per_row(fraction), name, "bad_number", column, f"{what} '",
                            "' is not a whole number")
                rejects.add(column.per_row(huge & ~fraction), name, "bad_number", column, f"{what} '",
                            "' is too large")
                values = np.where(fraction | huge, np.nan, values)
            return column.per_row(values)
        if kind in (TIMESTAMP, DATE):
            if name not in self._dates:  # a column the sample did not have: decide from this chunk
                self._dates[name] = DateParser(column.uniques.slice(0, 5000))
            us, bad = self._dates[name].parse(column.uniques)
            rejects.add(column.per_row(bad), name, "bad_date", column, f"{what} '", "' is not a valid date")
            return column.per_row(us if kind == TIMESTAMP else np.where(us == NAT, NAT, us - us % DAY_US))
        values, bad = parse_booleans(column.uniques)
        rejects.add(column.per_row(bad), name, "bad_value", column, f"{what} '", "' is not yes or no")
        return column.per_row(values)

    def _transaction_rules(self, columns: dict[str, Encoded], typed: dict[str, Any], n: int,
                           rejects: Rejects) -> None:
        """Negative prices and lines that sell nothing are errors; missing money fields are derived."""
        q, p, a = (typed.get(c, np.full(n, np.nan)) for c in ("quantity", "unit_price", "amount"))
        if "unit_price" in columns:
            rejects.add(p < 0, "unit_price", "negative_price", columns["unit_price"], "unit price '",
                        "' is negative; record a return with a negative quantity instead")
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            q_missing = np.isnan(q)
            q = np.where(q_missing & ~np.isnan(a) & ~np.isnan(p) & (p != 0), np.round(a / p, 6), q)
            q = np.where(np.isnan(q) & q_missing, np.where(a < 0, -1.0, 1.0), q)
            a = np.where(np.isnan(a), np.round(q * p, 6), a)
            p = np.where(np.isnan(p) & (q != 0), np.round(a / q, 6), p)
        rejects.add((q == 0) & (a == 0), "quantity", "zero_line", columns.get("quantity"), "quantity '",
                    "' with an amount of 0 records no sale")
        currency = typed.get("currency", Encoded(pa.nulls(1, STR), np.zeros(n, dtype=np.intp)))
        if self.currency:
            currency = currency.map(lambda u: pc.fill_null(u, self.currency))
        typed.update(quantity=q, unit_price=p, amount=a, currency=currency)

    def _first_sightings(self, prints: np.ndarray) -> np.ndarray:
        """Mask of rows neither in the lake already nor seen earlier in this file; counts the others."""
        known = isin_sorted(prints, self._known)
        in_file = (self._seen.contains(prints) | pd.Series(prints).duplicated().to_numpy()) & ~known
        fresh = ~known & ~in_file
        self._counts["duplicates_already_loaded"] += int(known.sum())
        self._counts["duplicates_in_file"] += int(in_file.sum())
        self._seen.add(prints[fresh])
        return fresh

    def _flags(self, typed: dict[str, Any], keep: np.ndarray, hashes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Returns and outliers among the kept rows; outlier statistics are per chunk and per product."""
        if self.dataset.name != "transactions":
            return {}
        q, p, a = (typed[c][keep] for c in ("quantity", "unit_price", "amount"))
        order = typed.get("order_id")
        cancelled = order.per_row(matches(order.uniques, r"^[Cc]\d+$"))[keep] if order else False
        return {"is_return": (q < 0) | (a < 0) | cancelled,
                "is_outlier": outliers(pd.factorize(_product_hash(hashes))[0], {"unit_price": p, "quantity": q})}

    def _frame(self, chunk: pd.DataFrame, typed: dict[str, Any], at: np.ndarray, flags: dict[str, np.ndarray],
               prints: np.ndarray) -> pd.DataFrame:
        """The accepted rows, typed, flagged, with the extra columns carried through as text."""
        every = at.size == len(chunk)
        data: dict[str, Any] = {}
        for name in self.dataset.column_names:
            values, kind = typed.get(name), self._kinds[name]
            if isinstance(values, Encoded):
                data[name] = pd.Series(values.rows(None if every else at).to_pandas(), dtype="str")
            elif values is not None:
                data[name] = _typed_values(values[at], kind)
        accepted = pd.DataFrame(data)
        for name, values in flags.items():
            accepted[name] = values
        accepted["row_fingerprint"] = prints
        for name in chunk.columns:
            if name not in self._kinds:
                extra = chunk[name].iloc[at].astype("str").reset_index(drop=True)
                accepted[f"{name}_raw" if name in accepted.columns else name] = extra
        return accepted

    # -- running totals -----------------------------------------------------------------------------------
    def _tally(self, typed: dict[str, Any], at: np.ndarray, accepted: pd.DataFrame) -> None:
        self._counts["rows_accepted"] += at.size
        for name, values in typed.items():
            missing = ~values.valid[at] if isinstance(values, Encoded) else \
                (values[at] == NAT) if values.dtype.kind == "i" else np.isnan(values[at])
            self._empty[name] += int(missing.sum())
        self._customers.update(_distinct(typed.get("customer_id"), at))
        product_id, product_name = typed.get("product_id"), typed.get("product_name")
        named = at[~product_id.valid[at]] if product_id else at
        self._products.update(_distinct(product_id, at) + _distinct(product_name, named))
        when = next((typed[c] for c in typed if self._kinds[c] in (TIMESTAMP, DATE)), None)
        if when is not None and (when[at] != NAT).any():
            dates = when[at][when[at] != NAT]
            self._span += [int(dates.min()), int(dates.max())]
        if self.dataset.name == "transactions":
            self._revenue += float(np.nansum(accepted["amount"].to_numpy()))
            self._counts["returns"] += int(accepted["is_return"].sum())
            self._counts["outliers"] += int(accepted["is_outlier"].sum())
            currency = typed["currency"]
            counts = np.bincount(currency.index[at], minlength=len(currency.uniques))
            for code, count in zip(currency.uniques.to_pylist(), counts, strict=True):
                if code is not None and count:
                    self._currencies[code] += int(count)

    def summary(self) -> dict[str, Any]:
        """Running totals for the file so far; JSON-serialisable."""
        span = [pd.Timestamp(v, unit="us").isoformat() for v in (min(self._span), max(self._span))] \
            if self._span else [None, None]
        keys = ("rows_read", "rows_accepted", "rows_rejected", "duplicates_in_file", "duplicates_already_loaded",
                "returns", "outliers")
        first_date = next(iter(self._dates.values()), None)
        return {
            "dataset": self.dataset.name, **{k: int(self._counts[k]) for k in keys},
            "date_from": span[0], "date_to": span[1],
            "customers": len(self._customers), "products": len(self._products),
            "revenue": round(self._revenue, 2) if self.dataset.name == "transactions" else None,
            "currency": self._currencies.most_common(1)[0][0] if self._currencies else self.currency,
            "currencies": sorted(self._currencies),
            "reject_reasons": dict(self._reasons.most_common()),
            "number_format": "decimal_comma" if self.decimal_comma else "decimal_point",
            "date_order": self._dates["ts"].order if "ts" in self._dates else first_date.order if first_date else None,
            "columns": list(self._columns),
            "empty_values": {k: int(v) for k, v in self._empty.items()},
        }


def _typed_values(values: np.ndarray, kind: str) -> Any:
    """The working arrays (float64, int64 microseconds) as the lake's column types."""
    if kind in (TIMESTAMP, DATE):
        return values.view("datetime64[us]")
    if kind == NUMBER:
        return values
    missing = np.isnan(values)
    if kind == INTEGER:
        return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)
    return pd.arrays.BooleanArray(values == 1, missing)


def _currency_codes(uniques: pa.Array) -> pa.Array:
    """Upper-case codes; the common symbols become their ISO code."""
    codes = pc.utf8_upper(uniques)
    for symbol, code in CURRENCY_SYMBOLS.items():
        codes = pc.if_else(pc.equal(codes, symbol), code, codes)
    return codes


def _product_hash(hashes: dict[str, np.ndarray]) -> np.ndarray:
    """Product code, else product name, as a hash: how a product is grouped for outliers."""
    by_id, by_name = hashes.get("product_id"), hashes.get("product_name")
    if by_id is None or by_name is None:
        return by_id if by_id is not None else by_name
    return np.where(by_id == NULL_HASH, by_name, by_id)


def _distinct(column: Encoded | None, at: np.ndarray) -> list[str]:
    if column is None or not at.size:
        return []
    used = np.bincount(column.index[at], minlength=len(column.uniques)) > 0
    return [v for v in column.uniques.filter(pa.array(used)).to_pylist() if v is not None]
