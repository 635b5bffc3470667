"""The analysis defaults in one place: horizons, windows, list sizes and budgets, overridable per environment."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class AnalysisConfig:
    """What one analysis run computes and how far it looks; every field is ``SL_ANALYSIS_<NAME>`` in the env.

    Days thresholds are the least history a step needs before its answer means anything; below them the
    step is skipped with a reason instead of showing a model fitted to noise.
    """

    period_days: int = 30  # the KPI window compared with the one before and the same days a year earlier
    forecast_freq: str = "W"  # weeks: daily sales are too noisy to plan with, months too few to learn from
    forecast_horizon: int = 12  # periods of forecast_freq
    forecast_top: int = 3  # besides the total, forecasts for this many top categories and top regions
    forecast_min_days: int = 63  # eight complete weeks and the partial ones around them
    seasonal_min_days: int = 14  # two weekly cycles
    anomaly_min_days: int = 28
    churn_window_days: int = 90
    top_categories: int = 5  # series and drill-downs kept per dimension
    top_products: int = 10
    top_regions: int = 5
    recommendations_per_customer: int = 5
    basket_min_count: int = 5
    basket_max_size: int = 30
    basket_triple_budget: int = 20_000_000
    basket_top_rules: int = 100
    lead_categories: int = 3  # cross-sell lists for the best-selling categories
    leads_per_list: int = 100
    launch_price_band: float = 0.25  # launch leads: products priced within ±25 % of the category's best seller
    query_threads: int = 4  # aggregate queries in flight at once
    lease_seconds: int = 1800  # longer than the worker's 15-minute limit, so a live run is never started twice
    seed: int = 0

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> AnalysisConfig:
        """Defaults, overridden by ``SL_ANALYSIS_*`` variables (e.g. ``SL_ANALYSIS_FORECAST_HORIZON=8``)."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = environ.get(f"SL_ANALYSIS_{field.name.upper()}")
            if raw:
                kind = {"int": int, "float": float}.get(str(field.type), str)
                values[field.name] = kind(raw)
        return cls(**values)
