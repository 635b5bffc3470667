"""The handful of findings worth reading first, in plain sentences, each pointing at the artifact behind it.

Pure: artifacts in (name -> (frame, meta), as the analysis worker writes them; meta tables as lists of
records), a ranked frame out. Each finder reads one or two artifacts and returns a :class:`Finding` with a
score from 0 to 100 for how much it matters to the business; scores are comparable across kinds on purpose, so
a 30 % revenue drop outranks a mild weekday pattern. :func:`generate` keeps the best ``limit`` (10).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chalicelib.money import money

INSIGHT_COLUMNS = ["rank", "kind", "artifact", "score", "text"]
DRIVER_COLUMNS = ["dimension", "value", "current", "previous", "change", "change_pct", "share_of_change"]
MOSTLY = 0.3  # a category or region "mostly" explains a change when it carries at least this share of it
Results = Mapping[str, tuple[pd.DataFrame, dict[str, Any]]]


@dataclass(frozen=True)
class Finding:
    kind: str
    artifact: str
    score: float
    text: str


def change_drivers(breakdown: pd.DataFrame, current: tuple, previous: tuple,
                   dimensions: tuple[str, ...] = ("category", "region"), top: int = 5) -> pd.DataFrame:
    """Which categories and regions moved revenue between two windows ((first day, day after the last) each).

    ``breakdown`` is ``daily_by_dimension.sql``. Per value: revenue in each window, the change, and its share of
    the dimension's total change; the values that moved with the total come first, ``top`` per dimension.
    """
    if breakdown is None or breakdown.empty:
        return pd.DataFrame(columns=DRIVER_COLUMNS)
    frame = breakdown[breakdown["dimension"].isin(dimensions)]
    frame = frame.assign(date=pd.to_datetime(frame["date"]).dt.normalize())

    def total(span: tuple) -> pd.Series:
        start, stop = pd.Timestamp(span[0]), pd.Timestamp(span[1])
        rows = frame[(frame["date"] >= start) & (frame["date"] < stop)]
        return rows.groupby(["dimension", "value"])["revenue"].sum()

    table = pd.concat({"current": total(current), "previous": total(previous)}, axis=1).fillna(0.0)
    if table.empty:
        return pd.DataFrame(columns=DRIVER_COLUMNS)
    table["change"] = table["current"] - table["previous"]
    overall = table.groupby(level="dimension")["change"].transform("sum")
    table["share_of_change"] = table["change"] / overall.where(overall != 0)
    table["change_pct"] = table["change"] / table["previous"].where(table["previous"] > 0)
    table["aligned"] = table["change"] * np.sign(overall.where(overall != 0, 1.0))
    table = table.reset_index().sort_values(["dimension", "aligned"], ascending=[True, False])
    return table.groupby("dimension").head(top)[DRIVER_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- helpers ----
def _get(results: Results, name: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    found = results.get(name)
    if found is None:
        return None
    frame, meta = found
    return (frame if frame is not None else pd.DataFrame()), (meta or {})


def _table(meta: dict[str, Any], key: str) -> pd.DataFrame:
    value = meta.get(key)
    return value if isinstance(value, pd.DataFrame) else pd.DataFrame(value or [])


def _finite(value: Any) -> bool:
    try:
        return value is not None and bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def _currency(results: Results) -> str | None:
    """The sales' one currency, as the KPI step recorded it (None: unknown or several)."""
    found = _get(results, "kpis")
    return found[1].get("currency") if found else None


def _names(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


# ---------------------------------------------------------------------------------------------- finders ----
def _revenue(results: Results) -> Finding | None:
    found = _get(results, "kpis")
    if found is None or found[0].empty or "kpi" not in found[0]:
        return None
    frame, meta = found
    rows = frame[frame["kpi"] == "revenue"]
    if rows.empty or not _finite(rows.iloc[0]["change_vs_previous"]):
        return None
    row = rows.iloc[0]
    change = float(row["change_vs_previous"])
    days = meta.get("period_days", 30)
    text = (f"Revenue {'rose' if change >= 0 else 'fell'} {abs(change):.0%} vs the previous {days} days "
            f"({money(row['value'], meta.get('currency'))} against {money(row['previous'], meta.get('currency'))})")
    drivers = _table(meta, "drivers")
    lead = {}
    for dimension in ("category", "region"):
        part = drivers[drivers["dimension"] == dimension] if not drivers.empty else drivers
        if not part.empty and _finite(part.iloc[0]["share_of_change"]) and part.iloc[0]["share_of_change"] >= MOSTLY:
            lead[dimension] = str(part.iloc[0]["value"])
    if lead:
        where = " in the " + lead["region"] + " region" if "region" in lead else ""
        text += ", mostly from " + lead["category"] + where if "category" in lead else ", mostly" + where
    if _finite(row.get("change_vs_last_year")):
        last_year = float(row["change_vs_last_year"])
        text += f"; {'up' if last_year >= 0 else 'down'} {abs(last_year):.0%} on the same days a year earlier"
    return Finding("revenue_change", "kpis", 50 + min(45.0, abs(change) * 150), text + ".")


def _anomaly(results: Results) -> Finding | None:
    found = _get(results, "anomalies")
    if found is None or found[0].empty:
        return None
    frame, meta = found
    frame = frame.assign(date=pd.to_datetime(frame["date"]))
    last = pd.Timestamp(meta["last_day"]) if meta.get("last_day") else frame["date"].max()
    recent = frame[frame["date"] > last - pd.Timedelta(days=90)]
    pool = recent if not recent.empty else frame
    row = pool.loc[pool["z_score"].abs().idxmax()]
    text = str(row["description"])
    if row.get("top_value") and _finite(row.get("top_share")):
        text += f" {row['top_value']} ({row['top_dimension']}) made {float(row['top_share']):.0%} of the difference."
    if len(frame) > 1:
        text += f" {len(frame)} unusual days were found in all."
    bonus = 15 if row["date"] > last - pd.Timedelta(days=30) else 5 if not recent.empty else 0
    return Finding("anomaly", "anomalies", 35 + min(30.0, abs(float(row["z_score"])) * 2) + bonus, text)


def _forecast(results: Results) -> Finding | None:
    found = _get(results, "forecast")
    if found is None or found[0].empty:
        return None
    _, meta = found
    change, horizon, unit = meta.get("change_vs_recent"), meta.get("horizon"), meta.get("unit", "week")
    ahead, recent = (money(meta.get(key, 0), _currency(results)) for key in ("forecast_total", "recent_total"))
    if _finite(change):
        change = float(change)
        move = "hold steady" if abs(change) < 0.02 else f"{'rise' if change > 0 else 'fall'} {abs(change):.0%}"
        text = (f"Sales are forecast to {move} over the next {horizon} {unit}s "
                f"({ahead} against {recent} in the last {horizon}).")
    else:
        text = f"Sales are forecast at {ahead} over the next {horizon} {unit}s."
        change = 0.0
    text += " " + str(meta.get("accuracy", ""))
    accuracy = _get(results, "forecast_accuracy")
    if accuracy is not None and accuracy[1].get("message"):
        text += " " + accuracy[1]["message"]
    return Finding("forecast", "forecast", 55 + min(30.0, abs(change) * 100), text.strip())


def _segments(results: Results) -> Finding | None:
    found = _get(results, "segments")
    profile = _table(found[1], "profile") if found else pd.DataFrame()
    if len(profile) < 2:
        return None
    spend_share = profile["total_spend"] / profile["total_spend"].sum()
    best = profile.loc[profile["total_spend"].idxmax()]
    share, spent = float(best["share"]), float(spend_share[profile["total_spend"].idxmax()])
    text = f"{best['segment']} are {share:.0%} of customers but bring {spent:.0%} of revenue"
    if isinstance(best.get("top_category"), str) and best["top_category"]:
        text += f"; they buy {best['top_category']} most often"
    largest = profile.loc[profile["customers"].idxmax()]
    if largest["segment"] != best["segment"]:
        text += f". The largest group is {largest['segment']} ({float(largest['share']):.0%} of customers)"
    return Finding("segment", "segments", 45 + min(25.0, max(0.0, spent - share) * 50), text + ".")


def _rfm(results: Results) -> Finding | None:
    found = _get(results, "rfm")
    profile = _table(found[1], "profile") if found else pd.DataFrame()
    if profile.empty:
        return None
    total = float(profile["customers"].sum())
    slipping = profile[profile["segment"].isin(["At risk", "Can't lose"])]
    if slipping["customers"].sum() > 0:
        n, spent = int(slipping["customers"].sum()), float(slipping["total_spend"].sum())
        return Finding("rfm", "rfm", 42 + min(20.0, n / total * 100),
                       f"{n:,} customers who used to buy often have not bought for a long time (RFM groups "
                       f"{_names(slipping['segment'].tolist())}); together they have spent "
                       f"{money(spent, _currency(results))}.")
    champions = profile[profile["segment"] == "Champions"]
    if champions.empty:
        return None
    row = champions.iloc[0]
    spend_share = float(row["total_spend"]) / max(float(profile["total_spend"].sum()), 1e-9)
    return Finding("rfm", "rfm", 38, f"{int(row['customers']):,} Champions ({float(row['share']):.0%} of customers) "
                                     f"bring {spend_share:.0%} of all spend.")


def _churn(results: Results) -> Finding | None:
    found = _get(results, "churn")
    if found is None or found[0].empty:
        return None
    meta = found[1]
    n, active = int(meta.get("high_risk_active", 0)), max(int(meta.get("active_customers", 0)), 1)
    model = f"{meta.get('best_model')} tells leavers from stayers with ROC AUC {float(meta.get('roc_auc', 0)):.2f}"
    if n == 0:
        return Finding("churn", "churn", 30, f"No active customer is at high risk of leaving ({model}).")
    return Finding("churn", "churn", 50 + min(40.0, n / active * 200),
                   f"{n:,} active customers are at high risk of leaving; they are expected to take about "
                   f"{money(meta.get('revenue_at_risk', 0), _currency(results))} a year in sales with them ({model}).")


def _basket(results: Results) -> Finding | None:
    found = _get(results, "basket_rules")
    if found is None or found[0].empty:
        return None
    rules = found[0]
    # lift alone favours rare combinations; weigh it by how many baskets back the rule
    row = rules.loc[(rules["lift"].astype(float) * np.log1p(rules["baskets"].astype(float))).idxmax()]
    return Finding("basket_rule", "basket_rules", 40 + min(20.0, float(row["lift"]) * 2),
                   f"{row['rule']}: bundle or cross-promote them.")


def _leads(results: Results) -> list[Finding]:
    found = _get(results, "leads")
    if found is None or found[0].empty:
        return []
    frame, meta = found
    quality, out = meta.get("quality") or {}, []
    cross = frame[frame["kind"] == "cross_sell"]
    if not cross.empty:
        auc = {t: float(quality.get(f"cross_sell: {t} AUC", np.nan)) for t in cross["target"].unique()}
        target = max(auc, key=lambda t: auc[t] if _finite(auc[t]) else -1)
        rows = cross[cross["target"] == target].sort_values("rank")
        first = ", ".join(rows["customer_id"].astype(str).head(3))
        score = 35 + min(25.0, max(0.0, auc[target] - 0.5) * 60) if _finite(auc[target]) else 35
        out.append(Finding("cross_sell", "leads", score,
                           f"Cross-sell {target}: {len(rows):,} customers who have not bought it yet buy like those "
                           f"who have (model ROC AUC {auc[target]:.2f}); start with {first}."))
    prospects = frame[frame["kind"] == "prospect"]
    if not prospects.empty:
        best = prospects.sort_values("rank").iloc[0]
        out.append(Finding("prospects", "leads", 33, f"{len(prospects):,} open prospects are scored; the most "
                                                     f"promising is {best['prospect_id']}: {best['reason']}."))
    return out


def _weekdays(results: Results) -> Finding | None:
    found = _get(results, "decomposition")
    pattern = _table(found[1], "weekday_pattern") if found else pd.DataFrame()
    if pattern.empty:
        return None
    busiest, quietest = pattern.loc[pattern["effect"].idxmax()], pattern.loc[pattern["effect"].idxmin()]
    spread = float(busiest["effect"] - quietest["effect"])
    return Finding("seasonality", "decomposition", 30 + min(20.0, spread * 30),
                   f"{busiest['weekday']} is your busiest day ({float(busiest['effect']):+.0%} against an average "
                   f"day) and {quietest['weekday']} the quietest ({float(quietest['effect']):+.0%}).")


def _pareto(results: Results) -> Finding | None:
    found = _get(results, "kpis")
    share = found[1].get("pareto_share") if found else None
    if not _finite(share):
        return None
    return Finding("pareto", "kpis", 28 + max(0.0, float(share) - 0.2) * 20,
                   f"Your top 20 % of products bring {float(share):.0%} of revenue in the last "
                   f"{found[1].get('period_days', 30)} days.")


def _recommendations(results: Results) -> Finding | None:
    found = _get(results, "recommendations")
    if found is None or found[0].empty:
        return None
    meta = found[1]
    text = f"Personal product suggestions are ready for {int(meta.get('customers', 0)):,} customers"
    comparison = _get(results, "model_comparison")
    if comparison is not None and "task" in comparison[0]:
        chosen = comparison[0][(comparison[0]["task"] == "recommendations") & comparison[0]["chosen"].astype(bool)]
        if not chosen.empty and _finite(chosen.iloc[0].get("hit_rate")):
            text += (f"; in a test, {chosen.iloc[0]['model']} had the customer's next purchase in its top list for "
                     f"{float(chosen.iloc[0]['hit_rate']):.0%} of them")
    return Finding("recommendations", "recommendations", 30, text + ".")


FINDERS: tuple[Callable[[Results], Finding | list[Finding] | None], ...] = (
    _revenue, _anomaly, _forecast, _segments, _rfm, _churn, _basket, _leads, _weekdays, _pareto, _recommendations)


def generate(results: Results, limit: int = 10) -> pd.DataFrame:
    """The ``limit`` most important findings, best first: rank, kind, artifact, score, text."""
    findings: list[Finding] = []
    for finder in FINDERS:
        found = finder(results)
        findings += found if isinstance(found, list) else [found] if found else []
    findings.sort(key=lambda f: -f.score)
    frame = pd.DataFrame([vars(f) for f in findings[:limit]], columns=INSIGHT_COLUMNS[1:])
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["score"] = frame["score"].astype(float).round(1)
    return frame
