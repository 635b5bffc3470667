"""Explore questions compiled to one DuckDB-dialect query, built as a sqlglot tree.

Only names from the catalogue (:mod:`chalicelib.query.explore_model`) become identifiers or expressions; every
value a caller sends (dates, filter values, bounds, search text) is a ``$p<n>`` parameter, bound by the engine.
The query names bare datasets, so :func:`chalicelib.query.engine.scope` pins it to the caller's tenant like any
other. Additive questions read the daily rollup (``sales_daily``); distinct counts, customers and their labels
read the order lines (``transactions``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import sqlglot
from dateutil.relativedelta import relativedelta
from sqlglot import exp

from chalicelib.query.explore_model import MEASURES, TIME_DIMENSIONS, Condition, Having, Sort

OTHER = "(everything else)"
NO_LABEL = "(none)"
ROLLUP_DIMENSIONS = ("category", "product", "region", "channel", *TIME_DIMENSIONS)
OTHER_ROWS_CAP = 20_000  # an 'everything else' answer is not paged; this bounds it

# The order lines as Explore sees them: one row per line, named like the rollup's columns.
_LINES = """
SELECT CAST(t.ts AS DATE) AS day,
       COALESCE(CAST(t.category AS VARCHAR), '(unknown)') AS category,
       COALESCE(CAST(t.product_name AS VARCHAR), CAST(t.product_id AS VARCHAR), '(unknown)') AS product,
       COALESCE(CAST(t.region AS VARCHAR), '(unknown)') AS region,
       COALESCE(CAST(t.channel AS VARCHAR), '(unknown)') AS channel,
       CAST(t.customer_id AS VARCHAR) AS customer,
       COALESCE(CAST(t.order_id AS VARCHAR),
                CAST(t.customer_id AS VARCHAR) || '@' || CAST(CAST(t.ts AS DATE) AS VARCHAR)) AS basket_id,
       COALESCE(t.amount, t.unit_price * COALESCE(t.quantity, 1), 0) AS amount,
       COALESCE(t.quantity, 1) AS quantity,
       COALESCE(t.is_return, COALESCE(t.quantity, 1) < 0) AS is_return,
       CAST(t.order_id AS VARCHAR) AS order_id, t.ts AS ts, CAST(t.product_id AS VARCHAR) AS product_id,
       t.unit_price AS unit_price, CAST(t.currency AS VARCHAR) AS currency
FROM transactions AS t
WHERE t.ts IS NOT NULL
"""
_LABELS = ("SELECT CAST(customer_id AS VARCHAR) AS customer_id, MAX(segment) AS segment, MAX(rfm_group) AS rfm_group "
           "FROM customer_labels GROUP BY 1")
_FIRST_PURCHASE = """
SELECT CAST(customer_id AS VARCHAR) AS customer_id, MIN(CAST(ts AS DATE)) AS first_day
FROM transactions
WHERE ts IS NOT NULL AND customer_id IS NOT NULL AND NOT COALESCE(is_return, COALESCE(quantity, 1) < 0)
GROUP BY 1
"""
_ROLLUP = "SELECT day, category, product, region, channel, revenue, units, lines, returns FROM sales_daily"

_ROLLUP_MEASURES = {
    "revenue": "SUM(revenue)", "units": "SUM(units)", "returns": "SUM(returns)",
    "return_rate": "SUM(returns) / NULLIF(SUM(revenue), 0)", "_lines": "SUM(lines)",
}
_BUY = "NOT is_return"
_LINE_MEASURES = {
    "revenue": "SUM(CASE WHEN is_return THEN 0 ELSE amount END)",
    "units": "SUM(CASE WHEN is_return THEN 0 ELSE quantity END)",
    "returns": "SUM(CASE WHEN is_return THEN ABS(amount) ELSE 0 END)",
    "return_rate": "SUM(CASE WHEN is_return THEN ABS(amount) ELSE 0 END) "
                   "/ NULLIF(SUM(CASE WHEN is_return THEN 0 ELSE amount END), 0)",
    "orders": f"COUNT(DISTINCT CASE WHEN {_BUY} THEN basket_id END)",
    "customers": f"COUNT(DISTINCT CASE WHEN {_BUY} THEN customer END)",
    "aov": f"SUM(CASE WHEN is_return THEN 0 ELSE amount END) "
           f"/ NULLIF(COUNT(DISTINCT CASE WHEN {_BUY} THEN basket_id END), 0)",
    "revenue_per_customer": f"SUM(CASE WHEN is_return THEN 0 ELSE amount END) "
                            f"/ NULLIF(COUNT(DISTINCT CASE WHEN {_BUY} THEN customer END), 0)",
    "new_customers": f"COUNT(DISTINCT CASE WHEN {_BUY} AND first_day = day THEN customer END)",
    "repeat_rate": f"CAST(COUNT(DISTINCT CASE WHEN {_BUY} AND first_day < day THEN customer END) AS DOUBLE) "
                   f"/ NULLIF(COUNT(DISTINCT CASE WHEN {_BUY} THEN customer END), 0)",
    "conversion": f"COUNT(DISTINCT CASE WHEN {_BUY} THEN basket_id END)",  # orders; divided by visits after
    "_lines": "COUNT(*)",
}


def _sql(text: str) -> exp.Expression:
    """A fragment of our own SQL (never a caller's text) as a fresh tree; each text is parsed once."""
    return _parsed(text).copy()


@cache
def _parsed(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="duckdb")


def _bucket(grain: str, column: str = "day", week_start: str = "monday") -> exp.Expression:
    """The first day of each date's ``grain`` bucket; SQL weeks start on Monday, so a Sunday week is the Monday
    week of the next day, a day earlier."""
    if grain == "day":
        return exp.column(column)
    if grain == "week" and week_start == "sunday":
        return _sql(f"CAST(DATE_TRUNC('week', {column} + INTERVAL 1 DAY) - INTERVAL 1 DAY AS DATE)")
    return _sql(f"CAST(DATE_TRUNC('{grain}', {column}) AS DATE)")


@dataclass
class Params:
    """Values bound to ``$p0``, ``$p1``...: the only way a caller's input reaches the query."""

    values: dict[str, Any] = field(default_factory=dict)

    def __call__(self, value: Any) -> exp.Placeholder:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return exp.Placeholder(this=name)


@dataclass(frozen=True)
class Question:
    """A checked Explore question with its dates resolved; field names are known to exist for the company."""

    measures: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    conditions: tuple[Condition, ...] = ()
    having: tuple[Having, ...] = ()
    sort: tuple[Sort, ...] = ()
    limit: int = 500
    offset: int = 0
    other: bool = False
    keep: tuple[str, ...] | None = None  # with ``other``: the values to keep, instead of ranking (comparisons)
    lines_only: bool = False  # the rollup is not complete yet: read the order lines
    extra_keys: tuple[str, ...] = ()  # the company's own columns, named extra_0, extra_1... in the query
    whole_lines: bool = False  # keep each line's whole extras map (the rows of a drill-down show it)
    week_start: str = "monday"  # the first day of a ``week`` bucket: "monday" or "sunday"

    @property
    def fields(self) -> set[str]:
        return set(self.dimensions) | {c.field for c in self.conditions}

    @property
    def source(self) -> str:
        """``rollup`` when every measure adds up and every field is in the rollup; else the order ``lines``."""
        additive = all(MEASURES[m].additive for m in self.measures) and all(
            MEASURES[h.measure].additive for h in self.having)
        rollup = additive and self.fields <= set(ROLLUP_DIMENSIONS) and not self.lines_only and not self.extra_keys
        return "rollup" if rollup else "lines"

    @property
    def ranked(self) -> str | None:
        """The dimension cut to its top ``limit`` values plus 'everything else', when ``other`` is asked."""
        if not self.other:
            return None
        return next((d for d in self.dimensions if d not in TIME_DIMENSIONS), None)


def _field(name: str, week_start: str) -> exp.Expression:
    """A dimension as an expression over the facts CTE."""
    if name in TIME_DIMENSIONS:
        return _bucket(name, week_start=week_start)
    return exp.column(name)


def _facts(question: Question, params: Params) -> exp.Select:
    """The rows the question aggregates: rollup or order lines, narrowed by its dates and conditions."""
    low, high = _day_bounds(question)
    if question.source == "rollup":
        base = _sql(_ROLLUP).assert_is(exp.Select)
        if low is not None:  # on the stored column, so Parquet statistics skip the row groups outside
            base = base.where(exp.column("day") >= exp.cast(params(low), "DATE"))
        if high is not None:
            base = base.where(exp.column("day") < exp.cast(params(high), "DATE"))
        facts = exp.select("*").from_(base.subquery("r"))
    else:
        lines = _lines(question.extra_keys, params)
        if question.whole_lines:
            lines = lines.select("t.extras AS extras")
        if low is not None:  # on the raw timestamp, so Parquet statistics skip the row groups outside
            lines = lines.where(exp.column("ts", "t") >= exp.cast(params(low), "TIMESTAMP"))
        if high is not None:
            lines = lines.where(exp.column("ts", "t") < exp.cast(params(high), "TIMESTAMP"))
        needs = set(question.measures) | {h.measure for h in question.having}
        if question.fields & {"segment", "rfm_group"}:
            lines = lines.select(f"COALESCE(l.segment, '{NO_LABEL}') AS segment",
                                 f"COALESCE(l.rfm_group, '{NO_LABEL}') AS rfm_group")
            lines = lines.join(_sql(_LABELS).subquery("l"), on="l.customer_id = CAST(t.customer_id AS VARCHAR)",
                               join_type="left")
        if needs & {"new_customers", "repeat_rate"}:
            lines = lines.select("f.first_day AS first_day")
            lines = lines.join(_sql(_FIRST_PURCHASE).subquery("f"),
                               on="f.customer_id = CAST(t.customer_id AS VARCHAR)", join_type="left")
        facts = exp.select("*").from_(lines.subquery("x"))
    if question.start is not None:
        facts = facts.where(exp.column("day") >= exp.cast(params(question.start), "DATE"))
    if question.end is not None:
        facts = facts.where(exp.column("day") <= exp.cast(params(question.end), "DATE"))
    for condition in question.conditions:
        facts = facts.where(_condition(condition, params, question.week_start))
    return facts


_GRAIN_LENGTH = {"day": relativedelta(days=1), "week": relativedelta(weeks=1), "month": relativedelta(months=1),
                 "quarter": relativedelta(months=3), "year": relativedelta(years=1)}


def _day_bounds(question: Question) -> tuple[date | None, date | None]:
    """The first day and the day after the last that the question can read: its dates, narrowed by any time
    bucket it keeps (a drill-down to one week). Only a bound for the scan; exact filters still apply."""
    low, high = question.start, question.end + relativedelta(days=1) if question.end else None
    for condition in question.conditions:
        if condition.field in TIME_DIMENSIONS and condition.op == "in":
            starts = [_as_date(value, condition.field) for value in condition.values]
            first, last = min(starts), max(starts) + _GRAIN_LENGTH[condition.field]
            low = first if low is None else max(low, first)
            high = last if high is None else min(high, last)
    return low, high


def _lines(extra_keys: tuple[str, ...], params: Params) -> exp.Select:
    """The order lines, with the company's extra columns asked for as ``extra_<i>`` (their names are values)."""
    lines = _sql(_LINES).assert_is(exp.Select)
    for i, key in enumerate(extra_keys):
        value = exp.Bracket(this=exp.column("extras", "t"), expressions=[params(key)], safe=True, offset=1)
        lines = lines.select(exp.alias_(exp.func("COALESCE", exp.cast(value, "VARCHAR"),
                                                 exp.Literal.string("(unknown)")), f"extra_{i}"))
    return lines


def _condition(condition: Condition, params: Params, week_start: str) -> exp.Expression:
    target = _field(condition.field, week_start)
    if condition.field in TIME_DIMENSIONS:
        values = [exp.cast(params(_as_date(v, condition.field)), "DATE") for v in condition.values]
    else:
        target = exp.func("COALESCE", target, exp.Literal.string("(unknown)"))
        values = [params(v) for v in condition.values]
    test = target.isin(*values)
    return exp.not_(test) if condition.op == "not_in" else test


def _as_date(value: str, grain: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"'{value}' is not a date; {grain} values are written YYYY-MM-DD") from None


def _measure(name: str, source: str) -> exp.Expression:
    return _sql((_ROLLUP_MEASURES if source == "rollup" else _LINE_MEASURES)[name])


def compile_explore(question: Question) -> tuple[str, dict[str, Any]]:
    """One query answering ``question``: its dimensions, measures, ``_lines`` (order lines behind each row),
    ``_total_rows`` (rows before paging) and ``_all_lines`` (order lines behind the whole answer)."""
    params = Params()
    facts = _facts(question, params)
    ranked = question.ranked
    grouped = exp.select().from_("facts")
    for name in question.dimensions:
        value = _field(name, question.week_start)
        if name == ranked and question.keep is not None:
            kept = [params(v) for v in question.keep] or [exp.null()]
            value = exp.Case().when(exp.column(name).isin(*kept), exp.column(name)).else_(exp.Literal.string(OTHER))
        elif name == ranked:
            value = exp.Case().when(exp.column("rank", "ranks") <= exp.Literal.number(question.limit),
                                    exp.column(name, "facts")).else_(exp.Literal.string(OTHER))
        grouped = grouped.select(exp.alias_(value, name))
    measures = [m for m in question.measures] + ["_lines"]
    measures += [h.measure for h in question.having if h.measure not in measures]
    for name in measures:
        grouped = grouped.select(exp.alias_(_measure(name, question.source), name))
    if question.dimensions:
        grouped = grouped.group_by(*(exp.Literal.number(i + 1) for i in range(len(question.dimensions))))
    with_ = {"facts": facts}
    if ranked and question.keep is None:
        order = exp.Order(expressions=[exp.Ordered(this=_sql(_rank_measure(question)), desc=True, nulls_first=False),
                                       exp.Ordered(this=exp.column(ranked))])
        rank = exp.Window(this=exp.RowNumber(), order=order)
        ranks = (exp.select(exp.alias_(exp.column(ranked), "value"), exp.alias_(rank, "rank"))
                 .from_("facts").group_by(exp.column(ranked)))
        with_["ranks"] = ranks
        grouped = grouped.join("ranks", on=exp.column(ranked, "facts").eq(exp.column("value", "ranks")))
    with_["grouped"] = grouped
    outer = exp.select("g.*").from_(exp.to_table("grouped").as_("g"))
    if "conversion" in measures:
        with_["visits"] = _visits(question, params)
        outer = _with_conversion(outer, question)
    for having in question.having:
        target = exp.column(having.measure, "g") if having.measure != "conversion" else _sql(_CONVERSION)
        if having.min is not None:
            outer = outer.where(target >= params(having.min))
        if having.max is not None:
            outer = outer.where(target <= params(having.max))
    outer = outer.select(exp.alias_(_sql("COUNT(*) OVER ()"), "_total_rows"),
                         exp.alias_(_sql("SUM(g._lines) OVER ()"), "_all_lines"))
    outer = outer.order_by(*_order(question))
    if ranked:
        outer = outer.limit(OTHER_ROWS_CAP)
    else:
        outer = outer.limit(question.limit).offset(question.offset) if question.offset else outer.limit(question.limit)
    for name, cte in with_.items():
        outer = outer.with_(name, as_=cte)
    return outer.sql(dialect="duckdb"), params.values


_CONVERSION = "CAST(g.conversion AS DOUBLE) / NULLIF(v.visits, 0)"


def _visits(question: Question, params: Params) -> exp.Select:
    """Visits per time bucket of the question (or in all) over its dates, from the traffic dataset."""
    grains = [d for d in question.dimensions if d in TIME_DIMENSIONS]
    visits = exp.select(exp.alias_(_sql("SUM(visits)"), "visits")).from_("traffic").where("date IS NOT NULL")
    for grain in grains:
        visits = visits.select(exp.alias_(_bucket(grain, "CAST(date AS DATE)", question.week_start), grain),
                               append=True)
    if question.start is not None:
        visits = visits.where(exp.cast(exp.column("date"), "DATE") >= exp.cast(params(question.start), "DATE"))
    if question.end is not None:
        visits = visits.where(exp.cast(exp.column("date"), "DATE") <= exp.cast(params(question.end), "DATE"))
    if grains:
        visits = visits.group_by(*(exp.Literal.number(i + 2) for i in range(len(grains))))
    return visits


def _with_conversion(outer: exp.Select, question: Question) -> exp.Select:
    """Orders (computed as ``conversion``) divided by the bucket's visits."""
    grains = [d for d in question.dimensions if d in TIME_DIMENSIONS]
    on = exp.and_(*(exp.column(g, "g").eq(exp.column(g, "v")) for g in grains)) if grains else exp.true()
    outer = exp.select(*(exp.column(c, "g") for c in question.dimensions),
                       *(exp.column(m, "g") for m in question.measures if m != "conversion"),
                       exp.column("_lines", "g"),
                       exp.alias_(_sql(_CONVERSION), "conversion")).from_(exp.to_table("grouped").as_("g"))
    return outer.join(exp.to_table("visits").as_("v"), on=on, join_type="left")


def _rank_measure(question: Question) -> str:
    """What top-N ranks by: the first measure sorted on, else the first measure (conversion ranks by orders)."""
    name = next((s.field for s in question.sort if s.field in MEASURES), question.measures[0])
    return _LINE_MEASURES["orders"] if name == "conversion" and question.source == "lines" else \
        (_ROLLUP_MEASURES if question.source == "rollup" else _LINE_MEASURES)[name]


def _order(question: Question) -> list[exp.Expression]:
    """Sorted as asked; then time ascending, the first measure descending and names, so pages are stable."""
    keys: list[exp.Expression] = []
    if question.ranked:
        keys.append(exp.column(question.ranked).eq(exp.Literal.string(OTHER)))
    for sort in question.sort:
        keys.append(exp.Ordered(this=exp.column(sort.field), desc=sort.direction == "desc", nulls_first=False))
    keys += [exp.Ordered(this=exp.column(d)) for d in question.dimensions if d in TIME_DIMENSIONS]
    keys.append(exp.Ordered(this=exp.column(question.measures[0]), desc=True, nulls_first=False))
    keys += [exp.Ordered(this=exp.column(d)) for d in question.dimensions if d not in TIME_DIMENSIONS]
    return keys


def compile_rows(start: date | None, end: date | None, conditions: tuple[Condition, ...], limit: int, offset: int,
                 extra_keys: tuple[str, ...] = (), week_start: str = "monday") -> tuple[str, dict[str, Any]]:
    """The order lines behind a cell, newest first, as they were counted, and ``_total_rows``.

    The count is its own aggregate beside the page, not a window over every match, so the page stays a top-N.
    """
    params = Params()
    question = Question(measures=("orders",), start=start, end=end, conditions=conditions,  # the order lines
                        extra_keys=extra_keys, whole_lines=True, week_start=week_start)
    page = (exp.select(*ROW_COLUMNS).from_("matched")
            .order_by(exp.Ordered(this=exp.column("ts"), desc=True), exp.Ordered(this=exp.column("order_id")),
                      exp.Ordered(this=exp.column("product")))
            .limit(limit))
    if offset:
        page = page.offset(offset)
    count = exp.select(exp.alias_(_sql("COUNT(*)"), "n")).from_("matched")
    outer = (exp.select("p.*", exp.alias_(exp.column("n", "c"), "_total_rows"))
             .from_(page.subquery("p")).join(count.subquery("c"), join_type="cross")
             .order_by(exp.Ordered(this=exp.column("ts", "p"), desc=True), exp.column("order_id", "p"),
                       exp.column("product", "p")))
    return outer.with_("matched", as_=_facts(question, params)).sql(dialect="duckdb"), params.values


ROW_COLUMNS = ("order_id", "ts", "customer", "product_id", "product", "category", "region", "channel", "quantity",
               "unit_price", "amount", "currency", "is_return", "extras")


def compile_values(dimension: str, text: str, limit: int, source_table: str = "rollup",
                   extra_keys: tuple[str, ...] = ()) -> tuple[str, dict[str, Any]]:
    """Values of ``dimension`` containing ``text`` (any case): prefix matches first, then by revenue."""
    params = Params()
    if dimension in ("segment", "rfm_group"):
        source = exp.select(exp.alias_(exp.column(dimension), "value"), exp.alias_(exp.Literal.number(0), "revenue")
                            ).from_("customer_labels").where(exp.column(dimension).is_(exp.null()).not_())
    elif dimension in ROLLUP_DIMENSIONS and dimension not in TIME_DIMENSIONS and source_table == "rollup":
        source = exp.select(exp.alias_(exp.column(dimension), "value"), "revenue").from_("sales_daily")
    elif dimension in ("category", "product", "region", "channel", "customer") or dimension.startswith("extra_"):
        source = (exp.select(exp.alias_(exp.column(dimension), "value"),
                             exp.alias_(_sql("CASE WHEN is_return THEN 0 ELSE amount END"), "revenue"))
                  .from_(_lines(extra_keys, params).subquery("x")).where(exp.column(dimension).is_(exp.null()).not_()))
    else:
        raise ValueError(f"{dimension} has no values to search")
    needle = params(text.lower())
    found = exp.func("STRPOS", exp.func("LOWER", exp.column("value")), needle) > 0
    prefix = exp.func("STARTS_WITH", exp.func("LOWER", exp.column("value")), needle.copy())
    query = (exp.select("value", exp.alias_(_sql("SUM(revenue)"), "revenue"))
             .from_(source.subquery("s")).where(found).group_by("value")
             .order_by(exp.Ordered(this=exp.case().when(prefix, exp.Literal.number(0)).else_(exp.Literal.number(1))),
                       exp.Ordered(this=exp.column("revenue"), desc=True, nulls_first=False),
                       exp.Ordered(this=exp.column("value")))
             .limit(limit))
    return query.sql(dialect="duckdb"), params.values


def compile_profile(source: str) -> tuple[str, dict[str, Any]]:
    """What the company's sales hold: first and last day, order lines, and how many known values per field."""
    facts = _facts(Question(measures=("revenue",) if source == "rollup" else ("orders",)), Params())
    query = exp.select(exp.alias_(_sql("MIN(day)"), "first_day"), exp.alias_(_sql("MAX(day)"), "last_day"),
                       exp.alias_(_measure("_lines", source), "lines")).from_(facts.subquery("x"))
    for name in ("category", "product", "region", "channel"):
        query = query.select(exp.alias_(_sql(f"COUNT(DISTINCT CASE WHEN {name} <> '(unknown)' THEN {name} END)"),
                                        name))
    return query.sql(dialect="duckdb"), {}


COMPANY_FACTS = """
SELECT (SELECT COUNT(customer_id) FROM transactions) AS customers,
       (SELECT COUNT(*) FROM traffic WHERE visits IS NOT NULL) AS traffic_days,
       (SELECT COUNT(segment) FROM customer_labels) AS segments,
       (SELECT COUNT(rfm_group) FROM customer_labels) AS rfm_groups
"""
CURRENCIES = ("SELECT currency, COUNT(*) AS line_count FROM transactions WHERE currency IS NOT NULL "
              "GROUP BY currency ORDER BY line_count DESC, currency")
