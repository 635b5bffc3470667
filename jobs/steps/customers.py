"""Steps over per-customer aggregates: RFM groups, K-Means segments, churn risk with revenue at risk."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chalicelib.analytics import customers
from chalicelib.analytics.churn import churn_cutoffs, churn_risk
from chalicelib.explore.labels import labels_frame
from jobs.steps.base import Output, Skip


def rfm_step(state: Any) -> Output:
    """Recency, frequency and spend quintiles and the named RFM group of every customer."""
    result = customers.rfm(state.frame("customer_features"), state.frame("customer_category"))
    if not result.ok:
        raise Skip(result.skipped)
    return Output({"rfm": (result.customers, {"profile": result.profile})})


def segments_step(state: Any) -> Output:
    """K-Means segments (k by silhouette), named from their profile; per customer, with the profile in meta."""
    result = customers.segment_customers(state.frame("customer_features"), state.frame("customer_category"),
                                         seed=state.config.seed)
    if not result.ok:
        raise Skip(result.skipped)
    meta = {"profile": result.profile, "k": result.k, "silhouette": result.silhouette}
    return Output({"segments": (result.customers, meta)})


def _value(scores: pd.DataFrame, now: pd.DataFrame, window: int) -> pd.DataFrame:
    """Each scored customer's yearly spend so far, whether they are still active, and the spend expected to go."""
    facts = now.assign(customer_id=now["customer_id"].astype(str))[
        ["customer_id", "recency_days", "tenure_days", "monetary", "orders"]]
    out = scores.merge(facts, on="customer_id", how="left")
    years = np.maximum(out["tenure_days"].astype(float), window) / 365.0  # a new customer's first weeks say little
    out["annual_value"] = (out["monetary"].astype(float).clip(lower=0) / years).round(2)
    out["active"] = out["recency_days"].astype(float) <= 2 * window  # the long gone are lost, not at risk
    out["expected_loss"] = (out["churn_probability"] * out["annual_value"]).round(2)
    return out


def churn_step(state: Any) -> Output:
    """Four classifiers compared on a time split (rows for model_comparison), today's risk per customer."""
    window = state.config.churn_window_days
    facts = state.facts
    cutoffs = churn_cutoffs(facts.first_ts, facts.last_ts, window)
    if isinstance(cutoffs, str):
        raise Skip(cutoffs)
    now = state.frame("churn_now")
    result = churn_risk(state.frame("churn_train"), state.frame("churn_test"), now, seed=state.config.seed,
                        window_days=window, currency=state.facts.currency)
    if result.models.empty:
        raise Skip(result.skipped)
    comparison = result.models.assign(task="churn", label=result.models["model"],
                                      chosen=result.models["model"] == result.best_model)
    if result.scores.empty:
        return Output({"model_comparison": (comparison, {})}, note=result.skipped or "")
    scores = _value(result.scores, now, window)
    at_risk = scores[(scores["risk"] == "high") & scores["active"]]
    best = comparison[comparison["chosen"]].iloc[0]
    meta = {"best_model": result.best_model, "roc_auc": float(best["roc_auc"]), "window_days": window,
            "cutoffs": {"train": cutoffs.train, "test": cutoffs.test, "score": cutoffs.score},
            "risk_counts": scores["risk"].value_counts().to_dict(), "customers": len(scores),
            "active_customers": int(scores["active"].sum()), "high_risk_active": len(at_risk),
            "revenue_at_risk": float(at_risk["expected_loss"].sum()),
            "annual_value_high_risk": float(at_risk["annual_value"].sum())}
    return Output({"churn": (scores, meta), "model_comparison": (comparison, {})})


def label_publisher(labels: Any) -> Any:
    """After a run: its customers' segments and RFM groups, for Explore to split and filter by."""
    def publish(state: Any) -> None:
        def frame(name: str) -> pd.DataFrame | None:
            return state.results[name][0] if name in state.results else None

        labels.publish(state.ctx, state.run.run_id, labels_frame(frame("rfm"), frame("segments")))

    return publish
