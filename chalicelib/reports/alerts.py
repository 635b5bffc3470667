"""Alerts after an analysis run: an unusual day, a forecast missed beyond its range, a jump in customers at risk.

:func:`detect` is pure (artifacts in, :class:`Alert` list out). :func:`dispatch` sends each alert once per
company: a ledger claim guards re-runs and retried messages, and is released when nothing got out.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from chalicelib.analytics.timeseries import FREQ_NAMES
from chalicelib.money import money

Results = Mapping[str, tuple[pd.DataFrame, dict]]
SEVERITIES = ("low", "medium", "high")
# channels are too few (online, store) to tell a shop owner much; named only when nothing else explains the day
CAUSE_DIMENSIONS = ("category", "product", "region")
MIN_CAUSE_SHARE = 0.2  # a driver behind less than a fifth of the gap is not "the cause"
FORECAST_LEVELS = (95, 80)  # the widest range the forecast has; 80 % only when a forecast has no 95 % range


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # "anomaly" | "forecast_miss" | "churn_jump"
    severity: str
    subject: str
    message: str
    details: dict[str, Any]
    date: str

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AlertRules:
    min_severity: str = "medium"
    anomalies: bool = True
    forecast_miss: bool = True
    churn_jump: bool = True
    churn_jump_share: float = 0.2
    churn_jump_min: int = 3
    lookback_days: int = 7


def detect(current: Results, previous: Results | None, rules: AlertRules) -> list[Alert]:
    """The alerts this run's artifacts call for, given the previous published run's (``None`` if there is none)."""
    previous = previous or {}
    currency = _meta(current, "kpis").get("currency")
    found: list[Alert] = []
    if rules.anomalies:
        found += anomaly_alerts(current, rules, currency)
    if rules.forecast_miss:
        found += forecast_miss_alerts(current, previous, currency)
    if rules.churn_jump:
        found += churn_jump_alerts(current, previous, rules, currency)
    return found


# -------------------------------------------------------------------------------------------- anomalies ----
def anomaly_alerts(current: Results, rules: AlertRules, currency: str | None) -> list[Alert]:
    """Unusual days at or above ``min_severity`` among the data's last ``lookback_days`` days (a first run must not
    alert about two years of history)."""
    if "anomalies" not in current:
        return []
    frame, meta = current["anomalies"]
    if frame.empty:
        return []
    dates = pd.to_datetime(frame["date"]).dt.normalize()
    last_day = pd.Timestamp(meta.get("last_day") or dates.max()).normalize()
    floor = SEVERITIES.index(rules.min_severity)
    recent = (last_day - dates).dt.days.between(0, rules.lookback_days)
    serious = frame["severity"].map(lambda s: s in SEVERITIES and SEVERITIES.index(s) >= floor)
    explanations = _explanations(meta.get("explanations"))
    alerts = []
    for when, row in zip(dates[recent & serious], frame[recent & serious].itertuples(), strict=True):
        drivers = _drivers(explanations[explanations["date"] == when]) if len(explanations) else []
        alerts.append(_anomaly_alert(when, row, drivers, currency))
    return alerts


def _explanations(value: Any) -> pd.DataFrame:
    frame = pd.DataFrame(value if value is not None else [])
    if frame.empty or "date" not in frame:
        return pd.DataFrame(columns=["date", "dimension", "value", "share_of_change", "rank"])
    return frame.assign(date=pd.to_datetime(frame["date"]).dt.normalize())


def _drivers(explained: pd.DataFrame) -> list[dict[str, Any]]:
    """The day's top one or two causes: each dimension's leading value, most concentrated first; channels only
    when no category, product or region stands out."""
    leaders = explained[explained["rank"] == 1].dropna(subset=["share_of_change"])
    leaders = leaders[leaders["share_of_change"] >= MIN_CAUSE_SHARE].sort_values("share_of_change", ascending=False)
    telling = leaders[leaders["dimension"].isin(CAUSE_DIMENSIONS)]
    chosen = telling if len(telling) else leaders[leaders["dimension"] == "channel"]
    return [{"dimension": str(r.dimension), "value": str(r.value), "share": float(r.share_of_change),
             "actual": _float(getattr(r, "actual", None)), "expected": _float(getattr(r, "expected", None))}
            for r in chosen.head(2).itertuples()]


def _anomaly_alert(when: pd.Timestamp, row: Any, drivers: list[dict[str, Any]], currency: str | None) -> Alert:
    down = row.direction == "down"
    pct = _float(row.difference_pct)
    how = f"{abs(pct):.0%} {'below' if down else 'above'} expected" if pct is not None else \
        f"{'below' if down else 'above'} expected"
    subject = f"Revenue on {day_label(when)} was {how}"
    message = f"{subject} ({money(row.actual, currency)} against {money(row.expected, currency)})"
    gap = "gap" if down else "rise"
    if drivers:
        parts = [_share_phrase(d, gap, first=i == 0) for i, d in enumerate(drivers)]
        message += "; " + ", ".join(parts) + "."
    else:
        message += f"; no single category, product or region explains the {gap}: it was spread across the board."
    details = {"date": f"{when:%Y-%m-%d}", "actual": float(row.actual), "expected": float(row.expected),
               "difference": float(row.difference), "difference_pct": pct, "z_score": _float(row.z_score),
               "direction": row.direction, "currency": currency, "drivers": drivers}
    return Alert(f"anomaly:{when:%Y-%m-%d}:{row.direction}", "anomaly", row.severity, subject, message, details,
                 f"{when:%Y-%m-%d}")


def _share_phrase(driver: dict[str, Any], gap: str, first: bool) -> str:
    name = f"{driver['value']} ({driver['dimension']})"
    if driver["share"] > 1:  # the others moved the other way, so this one alone made more than the whole gap
        return f"{name} alone accounts for more than the whole {gap}"
    return f"{driver['share']:.0%} of the {gap} is {name}" if first else f"{driver['share']:.0%} is {name}"


# ---------------------------------------------------------------------------------------- forecast miss ----
def forecast_miss_alerts(current: Results, previous: Results, currency: str | None) -> list[Alert]:
    """One alert for the latest complete period whose actual sales fell outside the previous forecast's 95 % range
    (80 % when the forecast has no 95 % range). Every compared period is new since the previous run, so a miss
    followed by a normal period still alerts; the message says how many periods missed."""
    if "forecast_accuracy" not in current:
        return []
    table, meta = current["forecast_accuracy"]
    if table.empty:
        return []
    table = table.assign(date=pd.to_datetime(table["date"])).sort_values("date")
    bounds = _bounds(table, previous)
    if bounds is None:
        return []
    level, lower, upper = bounds
    low_of, high_of = table["date"].map(lower), table["date"].map(upper)
    outside = (table["actual"] < low_of) | (table["actual"] > high_of)  # NaN bounds compare False: not a miss
    if not outside.any():
        return []
    row = table[outside].iloc[-1]
    low, high, actual = float(low_of[outside].iloc[-1]), float(high_of[outside].iloc[-1]), float(row["actual"])
    freq = str(meta.get("freq") or "W")
    period, forecast = period_label(row["date"], freq), float(row["forecast"])
    word = "below" if actual < low else "above"
    subject = f"Sales in {period} came in {word} the forecast range"
    off = f" ({abs(actual / forecast - 1):.0%} {'under' if actual < forecast else 'over'} the forecast)" \
        if forecast > 0 else ""
    message = (f"Sales in {period} were {money(actual, currency)}, {word} the forecast range: the last analysis "
               f"forecast {money(forecast, currency)}{off} and expected {level}% of outcomes between "
               f"{money(low, currency)} and {money(high, currency)}.")
    misses, compared = int(outside.sum()), len(table)
    if misses > 1:
        unit = FREQ_NAMES.get(freq, "period")
        message += f" {misses} of the {compared} {unit}s since that analysis were outside the range."
    message += " Something changed beyond normal ups and downs; the forecast has been updated with it."
    details = {"period_start": f"{row['date']:%Y-%m-%d}", "freq": freq, "actual": actual, "forecast": forecast,
               "level": level, "lower": low, "upper": high, "currency": currency,
               "periods_outside": misses, "periods_compared": compared,
               "previous_run_id": meta.get("previous_run_id", "")}
    severity = "high" if level == 95 else "medium"
    return [Alert(f"forecast_miss:{freq}:{row['date']:%Y-%m-%d}", "forecast_miss", severity, subject, message,
                  details, f"{row['date']:%Y-%m-%d}")]


def _bounds(table: pd.DataFrame, previous: Results) -> tuple[int, dict, dict] | None:
    """(level, lower by date, upper by date): from the accuracy table if it carries the range, else from the
    previous run's forecast of the total (the forecast the accuracy was measured against)."""
    in_table = _range(table)
    if in_table or "forecast" not in previous:
        return in_table
    forecast = previous["forecast"][0]
    if "dimension" in forecast:
        forecast = forecast[forecast["dimension"] == "total"]
    forecast = forecast.assign(date=pd.to_datetime(forecast["date"]))
    return _range(forecast)


def _levels(frame: pd.DataFrame) -> list[int]:
    """The interval levels ``frame`` has values for, widest first."""
    return [level for level in FORECAST_LEVELS if {f"lower_{level}", f"upper_{level}"} <= set(frame.columns)
            and frame[[f"lower_{level}", f"upper_{level}"]].notna().all(axis=1).any()]


def _range(frame: pd.DataFrame) -> tuple[int, dict, dict] | None:
    """(level, lower by date, upper by date) at the widest level ``frame`` has, or None."""
    levels = _levels(frame)
    if not levels:
        return None
    return levels[0], _by_date(frame, f"lower_{levels[0]}"), _by_date(frame, f"upper_{levels[0]}")


def _by_date(frame: pd.DataFrame, column: str) -> dict[pd.Timestamp, float]:
    return {pd.Timestamp(d): float(v) for d, v in zip(frame["date"], frame[column], strict=True) if pd.notna(v)}


# ------------------------------------------------------------------------------------------- churn jump ----
def churn_jump_alerts(current: Results, previous: Results, rules: AlertRules, currency: str | None) -> list[Alert]:
    """Active customers at high risk up by at least ``max(churn_jump_min, churn_jump_share × before)`` since the
    previous run; nothing without a previous run to compare with."""
    now, before = _meta(current, "churn"), _meta(previous, "churn")
    if "high_risk_active" not in now or "high_risk_active" not in before:
        return []
    count, earlier = int(now["high_risk_active"]), int(before["high_risk_active"])
    needed = max(rules.churn_jump_min, rules.churn_jump_share * earlier)
    if count - earlier < needed or count - earlier <= 0:
        return []
    cutoff = str((now.get("cutoffs") or {}).get("score") or "")[:10]
    subject = f"{count} active customers are now at high risk of leaving, up from {earlier}"
    message = f"{subject} at the previous analysis (+{count - earlier})."
    at_risk, yearly = _float(now.get("revenue_at_risk")), _float(now.get("annual_value_high_risk"))
    if yearly:
        message += f" Together they spend about {money(yearly, currency)} a year"
        message += f"; {money(at_risk, currency)} of it is likely to be lost." if at_risk else "."
    message += " See the churn page for who they are and why, and reach out before they go."
    details = {"high_risk_active": count, "previous_high_risk_active": earlier, "increase": count - earlier,
               "threshold": needed, "active_customers": now.get("active_customers"), "revenue_at_risk": at_risk,
               "annual_value_high_risk": yearly, "currency": currency, "score_cutoff": cutoff}
    severity = "high" if count >= 2 * max(earlier, 1) else "medium"
    return [Alert(f"churn_jump:{cutoff}", "churn_jump", severity, subject, message, details, cutoff)]


# ------------------------------------------------------------------------------------------------ words ----
def day_label(when: Any) -> str:
    """``14 May 2025``."""
    when = pd.Timestamp(when)
    return f"{when.day} {when:%b %Y}"


def period_label(start: Any, freq: str) -> str:
    """``the week of 5 May 2025``, ``May 2025``, ``Q2 2025``, ``2025`` or ``5 May 2025``."""
    start = pd.Timestamp(start)
    unit = FREQ_NAMES.get(freq, "period")
    if unit == "month":
        return f"{start:%B %Y}"
    if unit == "quarter":
        return f"Q{start.quarter} {start.year}"
    if unit == "year":
        return str(start.year)
    return day_label(start) if unit == "day" else f"the {unit} of {day_label(start)}"


def _meta(results: Results, name: str) -> dict[str, Any]:
    return dict(results[name][1] or {}) if name in results else {}


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# ------------------------------------------------------------------------------------------------- send ----
def dispatch(tenant_id: str, run_id: str, alerts: Sequence[Alert], settings: Any, ledger: Any, courier: Any,
             company_name: str) -> list[Any]:
    """E-mail each chosen member and POST the webhook for every alert not sent before; an alert none of whose
    deliveries got out is released so the next run tries again."""
    if not settings.enabled or not (settings.email_to or settings.webhook_url):
        return []
    deliveries: list[Any] = []
    for alert in alerts:
        if not ledger.claim(tenant_id, alert.key, run_id):
            continue
        sent: list[Any] = []
        try:
            subject = f"[SalesLens] {company_name}: {alert.subject}"
            for to in settings.email_to:
                sent.append(courier.email(tenant_id, to, subject, email_text(alert, company_name), "alert",
                                          alert_key=alert.key))
            if settings.webhook_url:
                payload = {"type": "alert", "alert": alert.public(), "company": company_name, "run_id": run_id}
                sent.append(courier.webhook(tenant_id, settings.webhook_url, settings.webhook_secret, payload,
                                            "alert", alert.subject, alert_key=alert.key))
        finally:
            if not any(d.status == "sent" for d in sent):
                ledger.release(tenant_id, alert.key)
        deliveries += sent
    return deliveries


def email_text(alert: Alert, company_name: str) -> str:
    return "\n".join([
        f"SalesLens alert for {company_name}",
        "",
        alert.message,
        "",
        "You receive this because an owner or admin chose you for alerts. Change who gets alerts, and for what, "
        "under Settings > Alerts in SalesLens.",
        "",
    ])
