"""What a report says: the content model (see ``render``) built from Explore answers and the latest artifacts.

Numbers that depend on the period and filters (key figures, the revenue trend, top products) come from Explore,
so they equal what the portal shows for the same question; the models' outputs (forecast, anomalies, segments,
churn, rules, recommendations, leads, insights) come from the latest analysis run and cover all sales. Nothing here
runs SQL of its own or touches AWS: ``ask`` answers Explore queries, ``artifacts`` holds the run's outputs.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from chalicelib.explore.profile import dimension
from chalicelib.money import money
from chalicelib.query.explore_model import MEASURES, Condition, DateRange, ExploreQuery
from chalicelib.reports import words
from chalicelib.reports.sections import SECTIONS, TITLES

Artifacts = Mapping[str, tuple[pd.DataFrame, dict[str, Any]]]
Ask = Callable[[ExploreQuery], dict[str, Any]]

KPI_MEASURES = ("revenue", "orders", "units", "customers", "aov", "returns")
TREND_WEEKS = 52
TOP = 10


@dataclass(frozen=True)
class Request:
    """What the user asked for: the period (a preset or dates), Explore filters and the sections, in order."""

    period: DateRange
    filters: tuple[Condition, ...] = ()
    sections: tuple[str, ...] = SECTIONS
    title: str = ""


@dataclass
class Inputs:
    """Everything a report is built from; ``skipped`` maps an artifact to why the run did not produce it."""

    company: str
    ask: Ask
    artifacts: Artifacts = field(default_factory=dict)
    skipped: Mapping[str, str] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def build(request: Request, inputs: Inputs) -> dict[str, Any]:
    """The content model of one report (plain JSON-able dict)."""
    kpis = _ask(inputs, request, KPI_MEASURES, compare="previous_period")
    meta = kpis["meta"]
    period = meta["date_range"]
    currency = meta.get("currency")
    context = _Context(request, inputs, kpis, _ask(inputs, request, KPI_MEASURES, compare="previous_year"),
                       date.fromisoformat(period["start"]), date.fromisoformat(period["end"]), currency)
    sections = [_section(name, context) for name in request.sections]
    data_range = meta.get("data_range") or {}
    return {
        "title": request.title or f"Sales report: {inputs.company}",
        "company": inputs.company,
        "generated_at": inputs.now.isoformat(timespec="seconds"),
        "generated_label": f"{inputs.now:%-d %b %Y, %H:%M} UTC",
        "period": {"from": period["start"], "to": period["end"], "label": words.span(context.start, context.end)},
        "data_range": {"from": data_range.get("start"), "to": data_range.get("end"),
                       "label": words.iso_span(data_range["start"], data_range["end"])
                       if data_range.get("start") else "no sales yet"},
        "filters": [{"field": _filter_label(c), "values": list(c.values)} for c in request.filters],
        "currency": currency,
        "headlines": _headlines(context),
        "sections": sections,
    }


class _Context:
    """The answers shared by several sections, asked once."""

    def __init__(self, request: Request, inputs: Inputs, previous: dict[str, Any], last_year: dict[str, Any],
                 start: date, end: date, currency: str | None) -> None:
        self.request, self.inputs, self.start, self.end, self.currency = request, inputs, start, end, currency
        self.previous = (previous.get("rows") or [{}])[0]
        self.last_year = (last_year.get("rows") or [{}])[0]
        self.compared_to = previous["meta"].get("compare") or {}

    def money(self, value: Any) -> str:
        return money(value, self.currency) if words.number(value) else "—"

    def artifact(self, name: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        return self.inputs.artifacts.get(name)

    def why_not(self, name: str) -> str:
        return self.inputs.skipped.get(name) or "The latest analysis has no results for this yet."

    @property
    def filtered(self) -> bool:
        return bool(self.request.filters)


def _ask(inputs: Inputs, request: Request, measures: tuple[str, ...], dimensions: tuple[str, ...] = (),
         compare: str | None = None, limit: int = 500, sort: str | None = None,
         period: DateRange | None = None) -> dict[str, Any]:
    query = ExploreQuery.model_validate({
        "measures": list(measures), "dimensions": list(dimensions), "limit": limit,
        "date": (period or request.period).model_dump(mode="json", exclude_none=True),
        "filters": [c.model_dump(mode="json") for c in request.filters],
        **({"compare": {"mode": compare}} if compare else {}),
        **({"sort": [{"field": sort, "direction": "desc"}]} if sort else {})})
    return inputs.ask(query)


# -- sections -------------------------------------------------------------------------------------------------
def _section(name: str, c: _Context) -> dict[str, Any]:
    section = {"id": name, "title": TITLES[name], "intro": "", "skipped": None, "cards": [], "charts": [],
               "tables": [], "sentences": []}
    try:
        section.update(_BUILDERS[name](c))
    except _Skipped as skipped:
        section["skipped"] = skipped.reason
    return section


class _Skipped(Exception):  # noqa: N818 - a section that has nothing to show, and why
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _need(c: _Context, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    found = c.artifact(name)
    if found is None:
        raise _Skipped(c.why_not(name))
    return found


def _kpis(c: _Context) -> dict[str, Any]:
    if not c.previous:
        raise _Skipped(f"No sales {words.span_words(c.start, c.end)}{_filter_words(c)}.")
    before = c.compared_to
    before_words = words.iso_span(before["start"], before["end"]) if before else ""
    cards = []
    for name in KPI_MEASURES:
        value = c.previous.get(name)
        if not words.number(value):
            continue
        measure = MEASURES[name]
        cards.append({"label": measure.label, "value": _value(value, measure.unit, c),
                      "previous": words.delta(c.previous.get(f"{name}_change_pct"), "vs the previous period"),
                      "last_year": words.delta(c.last_year.get(f"{name}_change_pct"), "vs a year earlier"),
                      "direction": words.direction(c.previous.get(f"{name}_change_pct"))})
    return {"intro": f"{words.span(c.start, c.end)}{_filter_words(c)}, compared with {before_words} and with the same "
                     "days a year earlier.", "cards": cards}


def _trend(c: _Context) -> dict[str, Any]:
    start = min(c.start, c.end - timedelta(weeks=TREND_WEEKS) + timedelta(days=1))
    weeks = _ask(c.inputs, c.request, ("revenue",), ("week",), limit=TREND_WEEKS + 2,
                 period=DateRange(start=start, end=c.end))
    rows = weeks.get("rows") or []
    if not rows:
        raise _Skipped(f"No sales {words.span_words(start, c.end)}{_filter_words(c)}.")
    rows = sorted(rows, key=lambda r: r["week"])
    # a week cut by the chart's edges (or by the last sale) would read as a slump: keep whole weeks only
    whole = [r for r in rows if date.fromisoformat(str(r["week"])[:10]) >= start
             and date.fromisoformat(str(r["week"])[:10]) + timedelta(days=6) <= c.end]
    rows = whole or rows
    x = [str(r["week"])[:10] for r in rows]
    actual = [r.get("revenue") for r in rows]
    forecast, note = _forecast_series(c)
    marks = _anomaly_marks(c, x, actual)
    high = max(range(len(actual)), key=lambda i: actual[i] or 0)
    caption = (f"Weekly revenue from the week of {words.day(x[0])} to the week of {words.day(x[-1])}"
               f"{_filter_words(c)}: "
               f"{c.money(actual[-1])} in the last week, the highest {c.money(actual[high])} in the week of "
               f"{words.day(x[high])}.")
    sentences = []
    if forecast:
        total = sum(forecast["mid"])
        caption += (f" The dashed line is the forecast for the next {len(forecast['x'])} weeks: "
                    f"{c.money(total)} in all, 80% likely between {c.money(sum(forecast['lower_80']))} and "
                    f"{c.money(sum(forecast['upper_80']))}.")
    if note:
        sentences.append(note)
    forecast_meta = (c.artifact("forecast") or (None, {}))[1]
    if forecast and forecast_meta.get("accuracy"):
        sentences.append(forecast_meta["accuracy"])
    if marks:
        caption += f" Dots mark {len(marks)} unusual day{'s' if len(marks) != 1 else ''} (see Unusual days)."
    chart = {"kind": "trend", "title": "Weekly revenue", "caption": caption,
             "y_label": f"Revenue ({c.currency})" if c.currency else "Revenue", "x": x, "actual": actual,
             "forecast": forecast, "marks": marks}
    decomposition = c.artifact("decomposition")
    if decomposition:
        day = decomposition[1].get("day") or {}
        if day.get("description"):
            sentences.append(day["description"])
    return {"charts": [chart], "sentences": sentences}


def _forecast_series(c: _Context) -> tuple[dict[str, Any] | None, str]:
    """The forecast that matches the report: the total, or the one category or region it is filtered to."""
    found = c.artifact("forecast")
    if found is None:
        return None, f"No forecast: {c.why_not('forecast')}"
    frame, _ = found
    dimension_name, value = "total", "All"
    if c.filtered:
        single = [f for f in c.request.filters if f.op == "in" and len(f.values) == 1
                  and f.field in ("category", "region")]
        if len(single) != 1 or len(c.request.filters) != 1:
            return None, ("The forecast covers all sales, or one category or region; it is left out of this "
                          "filtered report.")
        dimension_name, value = single[0].field, single[0].values[0]
    series = frame[(frame["dimension"] == dimension_name) & (frame["value"] == value)].sort_values("date")
    if series.empty:
        return None, f"There is no forecast for {value} ({dimension_name})."
    return {"x": [d.date().isoformat() for d in pd.to_datetime(series["date"])],
            **{k: [float(v) for v in series[k]] for k in ("lower_80", "upper_80", "lower_95", "upper_95")},
            "mid": [float(v) for v in series["forecast"]]}, ""


def _anomaly_marks(c: _Context, x: list[str], actual: list[Any]) -> list[dict[str, Any]]:
    """Unusual days inside the chart's weeks, placed on their week's point (anomalies are about all sales)."""
    found = c.artifact("anomalies")
    if found is None or c.filtered or found[0].empty:
        return []
    weeks = pd.to_datetime(pd.Series(x))
    marks = []
    for row in found[0].itertuples(index=False):
        day = pd.Timestamp(row.date)
        inside = weeks[(weeks <= day) & (day < weeks + pd.Timedelta(days=7))]
        if len(inside):
            i = int(inside.index[0])
            marks.append({"x": x[i], "y": actual[i], "label": f"{day:%-d %b}"})
    return marks


def _anomalies(c: _Context) -> dict[str, Any]:
    frame, _ = _need(c, "anomalies")
    days = pd.to_datetime(frame["date"]) if len(frame) else pd.Series(dtype="datetime64[ns]")
    inside = frame[(days.dt.date >= c.start) & (days.dt.date <= c.end)] if len(frame) else frame
    intro = ("Days whose revenue was far from what the usual pattern expected, for all sales (filters do not "
             "apply here), with what made the difference.")
    if inside.empty:
        latest = frame.sort_values("date").tail(3)
        sentences = [f"No unusual days {words.span_words(c.start, c.end)}."]
        if len(latest):
            sentences.append(f"{len(frame)} unusual day{'s' if len(frame) != 1 else ''} in all your data; the latest:")
            sentences += [str(d) for d in latest["description"]]
        return {"intro": intro, "sentences": sentences}
    shown = inside.loc[inside["z_score"].abs().sort_values(ascending=False).index[:TOP]].sort_values("date")
    rows = [[f"{pd.Timestamp(r.date):%a %-d %b %Y}", c.money(r.actual), c.money(r.expected),
             f"{r.difference_pct:+.0%}" if words.number(r.difference_pct) else "—", str(r.severity),
             f"{r.top_value} ({r.top_dimension}), {r.top_share:.0%} of the gap"
             if r.top_value and words.number(r.top_share) else ""]
            for r in shown.itertuples(index=False)]
    more = len(inside) - len(shown)
    columns = ["Day", "Actual", "Expected", "Difference", "Severity", "Main cause"]
    return {"intro": intro, "tables": [{"title": f"Unusual days {words.span_words(c.start, c.end)}", "columns": columns,
                                        "align": ["left", "right", "right", "right", "left", "left"],
                                        "rows": rows, "note": f"The {TOP} most unusual of {len(inside)}; the "
                                        "others are in the portal (Overview, unusual days)." if more else ""}],
            "sentences": [str(t) for t in shown["explanation"] if t][:5]}


def _segments(c: _Context) -> dict[str, Any]:
    rfm = c.artifact("rfm")
    segments = c.artifact("segments")
    if rfm is None and segments is None:
        raise _Skipped(c.why_not("rfm"))
    tables, charts, sentences = [], [], []
    for found, title in ((rfm, "RFM groups"), (segments, "Customer segments (K-Means)")):
        if found is None:
            continue
        profile = found[1].get("profile") or []
        columns = ["Group", "Customers", "Share", "Average spend", "Days since last order", "Top category"]
        tables.append({"title": title, "columns": columns,
                       "align": ["left", "right", "right", "right", "right", "left"],
                       "rows": [[p["segment"], f"{p['customers']:,}", f"{p['share']:.0%}", c.money(p["avg_spend"]),
                                 f"{p['avg_recency_days']:.0f}", str(p.get("top_category") or "")] for p in profile],
                       "note": ""})
        sentences += [f"{p['segment']}: {p['description']}" for p in profile if title != "RFM groups"]
    if rfm is not None:
        profile = sorted(rfm[1].get("profile") or [], key=lambda p: -p["customers"])
        if profile:
            biggest = profile[0]
            charts.append({"kind": "bars", "title": "Customers per RFM group", "value_label": "Customers",
                           "labels": [p["segment"] for p in profile], "values": [p["customers"] for p in profile],
                           "caption": f"{len(profile)} RFM groups; the largest is {biggest['segment']} with "
                                      f"{biggest['customers']:,} customers ({biggest['share']:.0%})."})
    return {"intro": "Groups cover all customers (filters do not apply here).", "tables": tables, "charts": charts,
            "sentences": sentences}


def _churn(c: _Context) -> dict[str, Any]:
    frame, meta = _need(c, "churn")
    at_risk = frame[(frame["risk"] == "high") & frame["active"].astype(bool)].sort_values("expected_loss",
                                                                                           ascending=False)
    sentences = [f"{meta.get('high_risk_active', len(at_risk)):,} active customers are at high risk of leaving; "
                 f"{c.money(meta.get('revenue_at_risk'))} of yearly revenue is at risk."
                 if words.number(meta.get("revenue_at_risk")) else
                 f"{len(at_risk):,} active customers are at high risk of leaving."]
    if meta.get("best_model"):
        auc = meta.get("roc_auc")
        sentences.append(f"Model: {meta['best_model']}" + (f" (ROC AUC {auc:.2f} on held-out customers)."
                                                          if words.number(auc) else "."))
    rows = [[str(r.customer_id), f"{r.churn_probability:.0%}", c.money(r.expected_loss), str(r.drivers)]
            for r in at_risk.head(TOP).itertuples(index=False)]
    tables = [{"title": f"Top {len(rows)} customers at risk, by expected loss", "rows": rows,
               "columns": ["Customer", "Risk", "Expected loss", "Why"], "align": ["left", "right", "right", "left"],
               "note": ""}] if rows else []
    return {"sentences": sentences, "tables": tables}


def _products(c: _Context) -> dict[str, Any]:
    answer = _ask(c.inputs, c.request, ("revenue", "units"), ("product",), compare="previous_period", limit=TOP,
                  sort="revenue")
    rows = answer.get("rows") or []
    tables, charts, sentences = [], [], []
    if rows:
        tables.append({"title": f"Top {len(rows)} products by revenue, {words.span(c.start, c.end)}",
                       "columns": ["Product", "Revenue", "Units", "Change vs previous period"],
                       "align": ["left", "right", "right", "right"],
                       "rows": [[str(r["product"]), c.money(r["revenue"]),
                                 f"{r['units']:,.0f}" if words.number(r["units"]) else "—",
                                 words.delta(r.get("revenue_change_pct"), "")] for r in rows], "note": ""})
        charts.append({"kind": "bars", "title": "Top products by revenue", "labels": [str(r["product"]) for r in rows],
                       "values": [float(r["revenue"] or 0) for r in rows],
                       "value_label": f"Revenue ({c.currency})" if c.currency else "Revenue",
                       "caption": f"{rows[0]['product']} sold the most, {c.money(rows[0]['revenue'])} "
                                  f"{words.span_words(c.start, c.end)}{_filter_words(c)}."})
    else:
        sentences.append(f"No sales {words.span_words(c.start, c.end)}{_filter_words(c)}.")
    rules = c.artifact("basket_rules")
    if rules is None:
        sentences.append(f"No basket rules: {c.why_not('basket_rules')}")
    elif len(rules[0]):
        best = rules[0].sort_values("lift", ascending=False).head(TOP)
        tables.append({"title": "Products bought together (all sales)", "columns": ["Bought", "Also bought", "Lift",
                                                                                    "Confidence", "Baskets"],
                       "align": ["left", "left", "right", "right", "right"],
                       "rows": [[str(r.antecedent), str(r.consequent), f"{r.lift:.1f}×", f"{r.confidence:.0%}",
                                 f"{r.baskets:,}"] for r in best.itertuples(index=False)],
                       "note": "Lift: how many times more often than average the second product is in the basket."})
    return {"tables": tables, "charts": charts, "sentences": sentences}


def _recommendations(c: _Context) -> dict[str, Any]:
    frame, meta = _need(c, "recommendations")
    customers = list(dict.fromkeys(frame["customer_id"]))[:5]
    rows = [[str(r.customer_id), str(r.rank), str(r.product_name), str(r.reason)]
            for r in frame[frame["customer_id"].isin(customers) & (frame["rank"] <= 3)].itertuples(index=False)]
    return {"intro": f"The top 3 suggestions for {len(customers)} customers, from {meta.get('model', 'the model')}; "
                     "the full list is in the portal (Recs & leads) and as CSV.",
            "tables": [{"title": "Recommendations", "columns": ["Customer", "Rank", "Product", "Why"],
                        "align": ["left", "right", "left", "left"], "rows": rows, "note": ""}]}


def _leads(c: _Context) -> dict[str, Any]:
    frame, meta = _need(c, "leads")
    tables = []
    for (kind, target), group in frame.groupby(["kind", "target"], sort=False):
        top = group.sort_values("rank").head(5)
        tables.append({"title": f"{kind.replace('_', '-').capitalize()} leads: {target}",
                       "columns": ["Rank", "Customer", "Score", "Why"], "align": ["right", "left", "right", "left"],
                       "rows": [[str(r.rank), str(r.customer_id), f"{r.score:.2f}", str(r.reason)]
                                for r in top.itertuples(index=False)],
                       "note": f"{len(group):,} leads in all."})
    if not tables:
        raise _Skipped("The latest analysis found no leads.")
    return {"tables": tables}


def _insights(c: _Context) -> dict[str, Any]:
    frame, _ = _need(c, "insights")
    return {"sentences": [str(t) for t in frame.sort_values("rank")["text"]]}


_BUILDERS: dict[str, Callable[[_Context], dict[str, Any]]] = {
    "kpis": _kpis, "trend": _trend, "anomalies": _anomalies, "segments": _segments, "churn": _churn,
    "products": _products, "recommendations": _recommendations, "leads": _leads, "insights": _insights}


# -- headlines ---------------------------------------------------------------------------------------------------
def _headlines(c: _Context) -> list[str]:
    """Three sentences for the first page and the e-mail: revenue in the period, then the top insights."""
    lines = []
    revenue = c.previous.get("revenue")
    if words.number(revenue):
        parts = [f"Revenue was {c.money(revenue)} {words.span_words(c.start, c.end)}{_filter_words(c)}"]
        for found, compared in ((c.previous, "the previous period"), (c.last_year, "a year earlier")):
            change = found.get("revenue_change_pct")
            if words.number(change):
                parts.append(f"{'up' if change >= 0 else 'down'} {abs(change):.0%} on {compared}")
        lines.append(", ".join(parts) + ".")
    else:
        lines.append(f"No sales {words.span_words(c.start, c.end)}{_filter_words(c)}.")
    insights = c.artifact("insights")
    if insights is not None:
        frame = insights[0].sort_values("rank")
        lines += [str(t) for t in frame.loc[frame["kind"] != "revenue_change", "text"].head(2)]
    return lines[:3]


# -- words ---------------------------------------------------------------------------------------------------------
def _value(value: float, unit: str, c: _Context) -> str:
    if unit == "currency":
        return c.money(value)
    if unit == "share":
        return f"{value:.1%}"
    return f"{value:,.0f}"


def _filter_label(condition: Condition) -> str:
    label = dimension(condition.field).label
    return label if condition.op == "in" else f"{label} (excluded)"


def _filter_words(c: _Context) -> str:
    if not c.filtered:
        return ""
    parts = []
    for condition in c.request.filters:
        values = ", ".join(condition.values[:3]) + (f" and {len(condition.values) - 3} more"
                                                    if len(condition.values) > 3 else "")
        label = _filter_label(condition).lower()
        parts.append(f"{label} {values}" if condition.op == "in" else f"without {label} {values}")
    return " (" + "; ".join(parts) + ")"
