"""Explore: answer a company's dashboard questions from its rollup or order lines, cached until its data changes."""
from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd

from chalicelib import errors, logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.explore import answers, dates, extras
from chalicelib.explore.cache import AnswerCache
from chalicelib.explore.profile import Profile, from_frames
from chalicelib.explore.rollups import LakeState, Rollups
from chalicelib.query import explore_sql
from chalicelib.query.engine import QueryEngine
from chalicelib.query.explore_model import DIMENSIONS, TIME_DIMENSIONS, Condition, ExploreQuery, RowsQuery

CSV_MAX_ROWS = 100_000
VALUES_MAX = 100_000  # values kept per field for autocomplete


class Explore:
    """One entry point per route; every method takes the caller's context and reads only its tenant's data."""

    def __init__(self, engine: QueryEngine, rollups: Rollups, cache: AnswerCache | None = None,
                 max_scan_lines: int = 200_000_000) -> None:
        self.engine, self.rollups = engine, rollups
        self.cache = cache or AnswerCache()
        self.max_scan_lines = max_scan_lines

    # -- the routes ----------------------------------------------------------------------------
    def fields(self, ctx: TenantContext) -> dict[str, Any]:
        state = self._state(ctx)
        return self._profile(ctx, state).fields()

    def explore(self, ctx: TenantContext, query: ExploreQuery) -> dict[str, Any]:
        started = time.perf_counter()
        state = self._state(ctx)
        profile = self._profile(ctx, state)
        span = dates.resolve(query.date, *_bounds(profile))
        profile.check(query)
        answer, cached = self._cached(ctx, state, "explore", query.model_dump(mode="json"),
                                      lambda: self._answer(ctx, state, profile, query, span))
        meta = {**answer["meta"], "cached": cached, "seconds": round(time.perf_counter() - started, 4)}
        return {**answer, "meta": meta}

    def rows(self, ctx: TenantContext, query: RowsQuery) -> dict[str, Any] | str:
        """The order lines behind a cell: a page of JSON, or every line (up to CSV_MAX_ROWS) as CSV text."""
        state = self._state(ctx)
        profile = self._profile(ctx, state)
        span = dates.resolve(query.date, *_bounds(profile))
        profile.check(query)
        _check_dates(query)
        limit, offset = (CSV_MAX_ROWS, 0) if query.format == "csv" else (query.limit, query.offset)
        self._guard_scan(ctx, state, profile, span, query.filters, query.week_start)
        renames = extras.renaming(query)
        sql, params = explore_sql.compile_rows(span.start, span.end, tuple(renames.query(query).filters), limit,
                                               offset, renames.keys, query.week_start)
        frame = self._query(ctx, sql, params)
        total = _first_int(frame, "_total_rows")
        frame = _spread_extras(frame.rename(columns={"customer": "customer_id", "product": "product_name"}),
                               profile.extras)
        shown = [c for c in frame.columns if not c.startswith("_")]
        if query.format == "csv":
            out = io.StringIO()
            frame[shown].to_csv(out, index=False)
            return out.getvalue()
        meta = self._meta(profile, span, "lines", total)
        return {"rows": answers.records(frame, shown), "columns": shown, "total_rows": total,
                "offset": offset, "limit": limit, "meta": meta,
                "message": None if total else answers.nothing_found(query.filters, span)}

    def values(self, ctx: TenantContext, dimension: str, text: str, limit: int) -> dict[str, Any]:
        """Autocomplete: the company's values of ``dimension`` containing ``text``, prefix matches first, then
        by revenue. The whole list is read once per data version; each keystroke only filters it."""
        state = self._state(ctx)
        profile = self._profile(ctx, state)
        searchable = [d for d in profile.dimensions() if d not in TIME_DIMENSIONS]
        if dimension not in searchable:
            raise errors.ValidationFailed(
                f"'{dimension}' has no values to search in your data. Use one of: {', '.join(searchable)}.",
                [{"field": "dimension", "problem": "not available", "valid": searchable}])
        source = "rollup" if state.rollup_complete else "lines"
        every, _ = self._cached(ctx, state, "values", [dimension, source],
                                lambda: self._all_values(ctx, dimension, source))
        needle = text.strip().lower()
        lowered = every["value"].str.lower()
        found = every[lowered.str.contains(needle, regex=False)] if needle else every
        found = found.assign(_prefix=~found["value"].str.lower().str.startswith(needle))
        found = found.sort_values(["_prefix", "revenue", "value"], ascending=[True, False, True],
                                  kind="stable").head(limit)
        return {"dimension": dimension, "q": text,
                "values": [{"value": v, "revenue": round(float(r), 2)} for v, r in zip(found["value"],
                                                                                     found["revenue"], strict=True)]}

    # -- answering -------------------------------------------------------------------------
    def _answer(self, ctx: TenantContext, state: LakeState, profile: Profile, query: ExploreQuery,
                span: dates.Span) -> dict[str, Any]:
        renames = extras.renaming(query)
        inside = renames.query(query)
        question = _question(inside, span, renames.keys)
        if question.source == "rollup" and not state.rollup_complete:
            question = replace(question, lines_only=True)
        if question.source == "lines":
            self._guard_scan(ctx, state, profile, span, query.filters, question.week_start)
        frame = answers.tidy(self._query(ctx, *explore_sql.compile_explore(question)), list(inside.dimensions))
        lines = _first_int(frame, "_all_lines")
        if not lines:  # no order line matched (without dimensions SQL still answers one row of nulls)
            frame = frame.iloc[0:0]
        total = _first_int(frame, "_total_rows")
        meta = self._meta(profile, span, question.source, lines)
        if query.compare and len(frame):
            frame, meta["compare"] = self._compare(ctx, inside, question, span, frame)
        elif query.compare:  # nothing to compare: the answer still has the columns it promises
            before, _ = dates.comparison(span, query.compare)
            meta["compare"] = {"mode": query.compare.mode, "event": query.compare.event,
                               "start": before.start.isoformat(), "end": before.end.isoformat(), "lines": None}
            frame = frame.reindex(columns=[*frame.columns, *(c["name"] for c in answers.columns(inside)
                                                              if c["name"] not in frame.columns)])
        frame = renames.outside(frame)
        names = [c["name"] for c in answers.columns(query)]
        message = None
        if not len(frame):
            message = answers.nothing_found(query.filters, span, having=bool(query.having))
        return {"columns": answers.columns(query), "rows": answers.records(frame, names, answers.money_columns(query)),
                "total_rows": total,
                "offset": query.offset, "limit": query.limit, "meta": meta, "message": message}

    def _compare(self, ctx: TenantContext, query: ExploreQuery, question: explore_sql.Question, span: dates.Span,
                 frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The same question over the compared dates, for the values on this page only."""
        before, offset = dates.comparison(span, query.compare)
        conditions = list(question.conditions)
        for name in query.dimensions:
            if name not in TIME_DIMENSIONS:
                values = [v for v in frame[name].dropna().unique().tolist() if v != explore_sql.OTHER]
                if values and name != question.ranked:
                    conditions.append(Condition.model_construct(field=name, op="in", values=values))
        previous_question = explore_sql.Question(
            measures=question.measures, dimensions=question.dimensions, start=before.start, end=before.end,
            conditions=tuple(conditions), limit=question.limit if question.ranked else explore_sql.OTHER_ROWS_CAP,
            other=question.other, keep=_kept(frame, question), extra_keys=question.extra_keys,
            week_start=question.week_start)
        previous = answers.tidy(self._query(ctx, *explore_sql.compile_explore(previous_question)),
                                list(query.dimensions))
        merged = answers.compared(frame, previous, query, offset)
        return merged, {"mode": query.compare.mode, "event": query.compare.event, "start": before.start.isoformat(),
                        "end": before.end.isoformat(), "lines": _first_int(previous, "_all_lines")}

    def _guard_scan(self, ctx: TenantContext, state: LakeState, profile: Profile, span: dates.Span,
                    conditions: list[Condition], week_start: str) -> None:
        """Refuse a question over more order lines than the engine should scan, saying how to narrow it."""
        if profile.lines <= self.max_scan_lines or not state.rollup_complete:
            return
        sql, params = explore_sql.compile_explore(explore_sql.Question(
            measures=("revenue",), start=span.start, end=span.end,
            conditions=tuple(c for c in conditions if c.field in explore_sql.ROLLUP_DIMENSIONS),
            week_start=week_start))
        lines = _first_int(self._query(ctx, sql, params), "_all_lines")
        if lines > self.max_scan_lines:
            raise errors.ValidationFailed(
                f"This question reads the order lines one by one and would scan {lines:,} of them (the limit is "
                f"{self.max_scan_lines:,}). Narrow the date range (for example the last 90 days) or filter by "
                "category, product, region or channel.", [{"field": "date", "problem": "too many order lines"}])

    def _meta(self, profile: Profile, span: dates.Span, source: str, lines: int) -> dict[str, Any]:
        return {"source": source, "date_range": {"start": span.start.isoformat(), "end": span.end.isoformat()},
                "data_range": profile.date_range(), "batches": profile.batches, "lines": lines,
                "currency": profile.currency, "currencies": list(profile.currencies)}

    # -- data state, profile and the engine ---------------------------------------------------------
    def _state(self, ctx: TenantContext) -> LakeState:
        """The tenant's committed batches; a missing or orphaned rollup is repaired first (logged if it fails,
        in which case questions read the order lines)."""
        state = self.rollups.state(ctx)
        if state.rollup_complete and len(state.rollups) == len(state.transactions):
            return state
        try:
            return self.rollups.sync(ctx, state)
        except Exception:
            logs.logger.exception("rollup sync failed; Explore reads the order lines")
            return state

    def _profile(self, ctx: TenantContext, state: LakeState) -> Profile:
        def build() -> Profile:
            source = "rollup" if state.rollup_complete else "lines"
            profile = self._query(ctx, *explore_sql.compile_profile(source))
            company = self._query(ctx, explore_sql.COMPANY_FACTS, {})
            currencies = self._query(ctx, explore_sql.CURRENCIES, {})
            return from_frames(profile, company, currencies, len(state.transactions),
                               self.rollups.extra_columns(ctx))

        return self._cached(ctx, state, "profile", None, build)[0]

    def _all_values(self, ctx: TenantContext, dimension: str, source: str) -> pd.DataFrame:
        renames = extras.renaming(RowsQuery(), dimension)
        sql, params = explore_sql.compile_values(renames.inside(dimension), "", VALUES_MAX, source, renames.keys)
        frame = self._query(ctx, sql, params)
        return frame.assign(value=frame["value"].astype(str), revenue=frame["revenue"].astype(float).fillna(0.0))

    def _cached(self, ctx: TenantContext, state: LakeState, kind: str, question: Any,
                build: Callable[[], Any]) -> tuple[Any, bool]:
        """The value for ``question`` in this lake state, built on a miss; and whether it was a hit."""
        key = AnswerCache.key(ctx.tenant_id, state.key, kind, question)
        value = self.cache.get(key)
        if value is not None:
            return value, True
        value = build()
        self.cache.put(key, value)
        return value, False

    def _query(self, ctx: TenantContext, sql: str, params: dict[str, Any]) -> pd.DataFrame:
        return self.engine.query(ctx, sql, params)


def _spread_extras(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """The ``extras`` map of each order line as one column per company column, as the company named them."""
    maps = frame.pop("extras") if "extras" in frame else pd.Series([None] * len(frame), index=frame.index)
    for name in names:
        if name not in frame:
            frame[name] = [(m or {}).get(name) if isinstance(m, dict) else None for m in maps]
    return frame


def _first_int(frame: pd.DataFrame, column: str) -> int:
    """A whole-answer figure repeated on every row (window functions); 0 for no rows or NULL."""
    if not len(frame) or pd.isna(frame[column].iloc[0]):
        return 0
    return int(frame[column].iloc[0])


def _bounds(profile: Profile) -> tuple[Any, Any]:
    if profile.first_day is None:
        raise errors.ValidationFailed("Your company has no sales yet: upload sales on the Data page first.",
                                      code="no_sales")
    return profile.first_day, profile.last_day


def _check_dates(query: ExploreQuery | RowsQuery) -> None:
    """Time filters take bucket starts as dates; anything else is the caller's to fix (400)."""
    for condition in query.filters:
        if condition.field in TIME_DIMENSIONS:
            for value in condition.values:
                _check_date(value, condition.field)


def _question(query: ExploreQuery, span: dates.Span, extra_keys: tuple[str, ...]) -> explore_sql.Question:
    _check_dates(query)
    return explore_sql.Question(
        measures=tuple(query.measures), dimensions=tuple(query.dimensions), start=span.start, end=span.end,
        conditions=tuple(query.filters), having=tuple(query.having), sort=tuple(query.sort), limit=query.limit,
        offset=query.offset, other=query.other, extra_keys=extra_keys, week_start=query.week_start)


def _kept(frame: pd.DataFrame, question: explore_sql.Question) -> tuple[str, ...] | None:
    """The top values of the ranked dimension on this page, so the comparison groups the same ones."""
    if not question.ranked:
        return None
    return tuple(v for v in frame[question.ranked].dropna().unique().tolist() if v != explore_sql.OTHER)


def _check_date(value: str, field: str) -> None:
    try:
        date.fromisoformat(value.strip())
    except ValueError:
        raise errors.ValidationFailed(f"'{value}' is not a {DIMENSIONS[field].label.lower()}: write it as "
                                      "YYYY-MM-DD, the first day of the bucket.",
                                      [{"field": "filters", "problem": f"{value!r} is not a date"}]) from None
