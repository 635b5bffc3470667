"""The analysis plan as data: the steps in order, what each writes, what it needs, and the SQL it reads.

The runner (:mod:`jobs.runner`) walks this list; nothing here runs anything, so a dry run is
``[step.skip_reason(facts, config) for step in PLAN]`` and tests can swap in their own plans.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.analytics.churn import churn_cutoffs
from chalicelib.analytics.kpis import windows
from chalicelib.analytics.leads import MIN_CUSTOMERS as LEAD_CUSTOMERS
from chalicelib.words import count
from jobs.config import AnalysisConfig
from jobs.facts import Facts
from jobs.steps import customers, data, products, summary, trends


@dataclass(frozen=True)
class Need:
    """A condition on the data; ``missing`` says in plain words what is lacking (the step adds what it costs)."""

    met: Callable[[Facts, AnalysisConfig], bool]
    missing: Callable[[Facts, AnalysisConfig], str]



SALES = Need(lambda f, c: f.sales_rows > 0 and f.days > 0, lambda f, c: "No dated sales yet")
TRAFFIC = Need(lambda f, c: f.traffic_days > 0, lambda f, c: "No traffic data linked")
PROSPECTS = Need(lambda f, c: f.prospects > 0, lambda f, c: "No prospects uploaded")


def customer_ids(minimum: int) -> Need:
    return Need(lambda f, c: f.customers >= minimum,
                lambda f, c: "No customer ids in your sales" if f.customers == 0
                else f"Only {count(f.customers, 'customer')} in your sales, fewer than the {minimum} needed")


def days(setting: str, what: str) -> Need:
    """At least ``config.<setting>`` days of sales; ``what`` names the span in words."""
    def minimum(c: AnalysisConfig) -> int:
        return int(getattr(c, setting))
    return Need(lambda f, c: f.days >= minimum(c),
                lambda f, c: f"Only {count(f.days, 'day')} of sales, fewer than {what} ({minimum(c)} days)")


def churn_history() -> Need:
    return Need(lambda f, c: f.days - 1 >= 3 * c.churn_window_days,  # churn_cutoffs counts the span
                lambda f, c: (f"Only {count(f.days, 'day')} of sales; churn learns from a {c.churn_window_days}-day "
                              f"window and needs {3 * c.churn_window_days}"))


def products_sold(minimum: int) -> Need:
    return Need(lambda f, c: f.products >= minimum,
                lambda f, c: f"Only {count(f.products, 'product')} sold, fewer than the {minimum} needed")


def orders(minimum: int) -> Need:
    return Need(lambda f, c: f.orders >= minimum,
                lambda f, c: f"Only {count(f.orders, 'order')}, fewer than the {minimum} needed")


CUSTOMERS_OR_PROSPECTS = Need(lambda f, c: f.customers >= LEAD_CUSTOMERS or f.prospects > 0,
                              lambda f, c: "No customer ids in your sales and no prospects uploaded")


@dataclass(frozen=True)
class Query:
    """An aggregate from ``chalicelib/query/aggregates`` and how its parameters follow from the facts."""

    sql: str
    params: Callable[[Facts, AnalysisConfig], dict[str, Any]] = lambda f, c: {}
    when: Need | None = None  # fetched only when this holds (e.g. traffic exists)


def _window(name: str) -> Callable[[Facts, AnalysisConfig], dict[str, Any]]:
    def params(f: Facts, c: AnalysisConfig) -> dict[str, Any]:
        start, stop = windows(f.last_ts, c.period_days)[name]
        return {"start": start.date().isoformat(), "end": stop.date().isoformat()}
    return params


def _churn_at(which: str) -> Callable[[Facts, AnalysisConfig], dict[str, Any]]:
    def params(f: Facts, c: AnalysisConfig) -> dict[str, Any]:
        cutoffs = churn_cutoffs(f.first_ts, f.last_ts, c.churn_window_days)
        return {"cutoff": getattr(cutoffs, which).isoformat(sep=" "), "window_days": c.churn_window_days}
    return params


def _basket(f: Facts, c: AnalysisConfig) -> dict[str, Any]:
    return {"min_count": c.basket_min_count, "max_basket": c.basket_max_size}


ALL_TIME = lambda f, c: {"start": None, "end": None}  # noqa: E731
LATEST = lambda f, c: {"as_of": None}  # noqa: E731

QUERIES: dict[str, Query] = {
    "profile": Query("data_profile"),
    "daily": Query("daily", ALL_TIME),
    "daily_by_dimension": Query("daily_by_dimension", ALL_TIME),
    "traffic_daily": Query("traffic_daily", when=TRAFFIC),
    "products_current": Query("product_revenue", _window("current")),
    "customers_current": Query("period_customers", _window("current")),
    "customers_previous": Query("period_customers", _window("previous")),
    "customers_last_year": Query("period_customers", _window("last_year")),
    "customer_features": Query("customer_features", LATEST),
    "customer_category": Query("customer_category", LATEST),
    "interactions": Query("interactions", LATEST),
    "product_catalogue": Query("product_catalogue"),
    "churn_train": Query("churn_labels", _churn_at("train")),
    "churn_test": Query("churn_labels", _churn_at("test")),
    "churn_now": Query("churn_labels", _churn_at("score")),
    "basket_stats": Query("basket_stats", _basket),
    "basket_pairs": Query("basket_pairs", _basket),
    "basket_items": Query("basket_items", _basket),
    "basket_triples": Query("basket_triples", _basket),  # only when basket_stats says it is cheap enough
    "prospect_rows": Query("prospect_rows", when=PROSPECTS),
}


@dataclass(frozen=True)
class Step:
    """One step: ``run(state)`` returns its artifacts; ``needs`` must hold or it is skipped, saying ``without``
    what the user goes; unmet ``wants`` only add a note. ``weight`` is its share of the progress bar."""

    name: str
    run: Callable[[Any], Any]
    writes: tuple[str, ...] = ()
    needs: tuple[Need, ...] = ()
    without: str = ""
    wants: tuple[tuple[Need, str], ...] = ()
    queries: tuple[str, ...] = ()
    weight: int = 1
    label: str = field(default="")

    @property
    def title(self) -> str:
        """The step's name as a user reads it in messages ("The basket rules step failed...")."""
        return self.label or self.name.replace("_", " ")

    def skip_reason(self, facts: Facts, config: AnalysisConfig) -> str | None:
        """Why the step cannot run on these data, in plain words; None when it applies."""
        for need in self.needs:
            if not need.met(facts, config):
                return f"{need.missing(facts, config)}: {self.without}."
        return None

    def notes(self, facts: Facts, config: AnalysisConfig) -> list[str]:
        return [f"{need.missing(facts, config)}: {cost}." for need, cost in self.wants if not need.met(facts, config)]


PLAN: tuple[Step, ...] = (
    Step("aggregates", data.aggregates, queries=("profile",), weight=12, label="data preparation"),
    Step("kpis", trends.kpis_step, ("kpis",), (SALES,), "no KPIs", wants=((TRAFFIC, "no conversion rate"),),
         queries=("daily", "daily_by_dimension", "traffic_daily", "products_current", "customers_current",
                  "customers_previous", "customers_last_year"), label="KPI"),
    Step("timeseries", trends.timeseries_step, ("timeseries",), (SALES,), "no trend charts",
         queries=("daily", "daily_by_dimension"), weight=2, label="trends"),
    Step("decomposition", trends.decomposition_step, ("decomposition",),
         (days("seasonal_min_days", "two seasonal (weekly) cycles"),), "no seasonal model", queries=("daily",),
         weight=3, label="seasonality"),
    Step("forecast", trends.forecast_step, ("forecast", "model_comparison"),
         (days("forecast_min_days", "nine weeks"),), "no forecast yet", queries=("daily", "daily_by_dimension"),
         weight=14),
    Step("forecast_accuracy", trends.forecast_accuracy_step, ("forecast_accuracy",), (SALES,),
         "no forecast accuracy", queries=("daily",), label="forecast accuracy"),
    Step("anomalies", trends.anomalies_step, ("anomalies",), (days("anomaly_min_days", "four weeks"),),
         "no anomaly detection", queries=("daily", "daily_by_dimension"), weight=4),
    Step("rfm", customers.rfm_step, ("rfm",), (customer_ids(5),), "no RFM groups",
         queries=("customer_features", "customer_category"), label="RFM"),
    Step("segments", customers.segments_step, ("segments",), (customer_ids(10),), "no segments",
         queries=("customer_features", "customer_category"), weight=6, label="customer segments"),
    Step("churn", customers.churn_step, ("churn", "model_comparison"), (customer_ids(30), churn_history()),
         "no churn risk", queries=("churn_train", "churn_test", "churn_now"), weight=12, label="churn risk"),
    Step("recommendations", products.recommendations_step, ("recommendations", "model_comparison"),
         (customer_ids(3), products_sold(2)), "no recommendations", queries=("interactions", "product_catalogue"),
         weight=14),
    Step("basket_rules", products.basket_step, ("basket_rules",), (orders(10), products_sold(2)),
         "no basket rules", queries=("basket_stats", "basket_pairs", "basket_items", "product_catalogue"),
         weight=4, label="basket rules"),
    Step("leads", products.leads_step, ("leads",), (CUSTOMERS_OR_PROSPECTS,), "no leads",
         wants=((customer_ids(LEAD_CUSTOMERS), "no cross-sell or launch leads"), (PROSPECTS, "no prospect scores")),
         queries=("customer_features", "customer_category", "interactions", "product_catalogue", "prospect_rows"),
         weight=10),
    Step("insights", summary.insights_step, ("insights",), (SALES,), "no insights"),
)
