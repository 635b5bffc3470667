"""Churn risk: four classifiers compared on a time-based split, the best one calibrated, drivers in words.

Inputs are rows of ``churn_labels.sql`` run at three cutoffs (see :func:`churn_cutoffs`): an earlier one to
train on, a later one to test on (the future must not leak into training), and the latest sale to score
today's customers. Rows are customers, so everything here grows with customers, not transactions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from chalicelib.money import money

FEATURES = ("recency_days", "tenure_days", "orders", "monetary", "aov", "returned", "distinct_products",
            "distinct_categories", "orders_recent", "orders_prior", "spend_recent", "spend_prior",
            "avg_days_between")
MIN_CUSTOMERS = 30
MIN_PER_CLASS = 5
METRICS = ("accuracy", "precision", "recall", "roc_auc")
MAX_FIT_ROWS = 20_000  # customers a model learns from; a stratified sample beyond that adds time, not AUC
CALIBRATION_SHARE = 0.25  # of the labelled rows, held out to calibrate the chosen model
ISOTONIC_MIN = 250  # of each class in the held-out part; fewer and a sigmoid overfits less
TREE_JOBS = 2  # the worker has two cores; forest trees are built on joblib threads, not OpenMP
TREND = ("orders_recent", "orders_prior", "spend_recent", "spend_prior")


@dataclass
class ChurnResult:
    """The model comparison, the chosen model and today's risk per customer; ``skipped`` says why when empty."""

    models: pd.DataFrame = field(default_factory=pd.DataFrame)  # model, accuracy, precision, recall, roc_auc
    best_model: str | None = None
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: str | None = None
    window_days: int | None = None

    @property
    def ok(self) -> bool:
        return self.skipped is None


@dataclass(frozen=True)
class ChurnCutoffs:
    """When to cut the history for training, testing and scoring, for a label window of ``window_days``."""

    train: pd.Timestamp
    test: pd.Timestamp
    score: pd.Timestamp
    window_days: int


def churn_cutoffs(first_ts, last_ts, window_days: int = 90) -> ChurnCutoffs | str:
    """Cutoffs whose label windows end within the data, or why the history is too short for them."""
    first, last = pd.Timestamp(first_ts), pd.Timestamp(last_ts)
    needed = 3 * window_days  # a window of history before the train cutoff, then two label windows
    if (last - first).days < needed:
        return (f"Churn needs about {needed} days of sales to learn from a {window_days}-day window; "
                f"the data cover {(last - first).days} days. Try a shorter window or come back later.")
    test = last - timedelta(days=window_days)
    return ChurnCutoffs(train=test - timedelta(days=window_days), test=test, score=last, window_days=window_days)


def _log(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


def candidate_models(seed: int = 0) -> dict[str, Pipeline]:
    """The four classifiers compared, each behind the same imputation of missing figures."""
    impute = SimpleImputer(strategy="median")
    logs = FunctionTransformer(_log)
    return {
        "Logistic regression": make_pipeline(clone(impute), clone(logs), StandardScaler(),
                                             LogisticRegression(max_iter=2000, class_weight="balanced")),
        "Naive Bayes": make_pipeline(clone(impute), clone(logs), GaussianNB()),
        "Random forest": make_pipeline(clone(impute), RandomForestClassifier(
            n_estimators=50, max_depth=10, min_samples_leaf=5, max_samples=0.5, class_weight="balanced_subsample",
            random_state=seed, n_jobs=TREE_JOBS)),
        "Gradient boosting": make_pipeline(clone(impute), HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.1, max_leaf_nodes=15, early_stopping=True, n_iter_no_change=10,
            # no class weights: with them, binning takes a weighted percentile per bin and feature (0.4 s of 0.9 s
            # at 10k customers); boosting ranks well unweighted and the chosen model is calibrated afterwards
            max_bins=63, random_state=seed)),
    }


def _matrix(frame: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in FEATURES if c in frame]
    return frame[columns].apply(pd.to_numeric, errors="coerce").astype(float)


def capped_sample(labels: np.ndarray, rows: int, seed: int) -> np.ndarray:
    """Positions of at most ``rows`` examples with the same share of each label (all, when there are fewer):
    beyond some thousands of customers a model's AUC stops improving while its fit time keeps growing."""
    if len(labels) <= rows:
        return np.arange(len(labels))
    kept, _ = train_test_split(np.arange(len(labels)), train_size=rows, stratify=labels, random_state=seed)
    return np.sort(kept)


def _capped(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """At most ``rows`` rows, sampled with the same share of churners."""
    return frame.iloc[capped_sample(frame["churned"].astype(int).to_numpy(), rows, seed)]


def _labelled(frame: pd.DataFrame | None, what: str) -> tuple[pd.DataFrame, str | None]:
    if frame is None or frame.empty or "customer_id" not in frame:
        return pd.DataFrame(), f"No customers with ids in the {what} period; churn needs to know who bought."
    frame = frame.dropna(subset=["customer_id"]).reset_index(drop=True)
    if "label_complete" in frame and not bool(frame["label_complete"].fillna(False).all()):
        return frame, f"The {what} period's label window runs past the last sale, so its outcome is not known yet."
    counts = frame["churned"].astype(int).value_counts()
    churned, stayed = int(counts.get(1, 0)), int(counts.get(0, 0))
    if len(frame) < MIN_CUSTOMERS:
        return frame, (f"Only {len(frame)} customers in the {what} period; churn needs at least {MIN_CUSTOMERS} "
                       "to learn who leaves.")
    if min(churned, stayed) < MIN_PER_CLASS:
        return frame, (f"In the {what} period {churned} customers left and {stayed} stayed; churn needs at least "
                       f"{MIN_PER_CLASS} of each to tell them apart.")
    return frame, None


def compare_models(train: pd.DataFrame, test: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, str | None]:
    """Accuracy, precision, recall and ROC AUC of each candidate on the later cutoff; or why it cannot run."""
    train, reason = _labelled(train, "training")
    if reason:
        return pd.DataFrame(), reason
    test, reason = _labelled(test, "test")
    if reason:
        return pd.DataFrame(), reason
    train = _capped(train, MAX_FIT_ROWS, seed)
    x_train, y_train = _matrix(train), train["churned"].astype(int)
    x_test, y_test = _matrix(test)[x_train.columns], test["churned"].astype(int)
    rows = []
    for name, model in candidate_models(seed).items():
        fitted = model.fit(x_train, y_train)
        proba = fitted.predict_proba(x_test)[:, 1]
        predicted = (proba >= 0.5).astype(int)
        rows.append({"model": name,
                     "accuracy": accuracy_score(y_test, predicted),
                     "precision": precision_score(y_test, predicted, zero_division=0),
                     "recall": recall_score(y_test, predicted, zero_division=0),
                     "roc_auc": roc_auc_score(y_test, proba)})
    table = pd.DataFrame(rows).sort_values("roc_auc", ascending=False, ignore_index=True)
    return table.round({m: 4 for m in METRICS}), None


def churn_risk(train: pd.DataFrame, test: pd.DataFrame, current: pd.DataFrame, *, seed: int = 0,
               window_days: int = 90, currency: str | None = None) -> ChurnResult:
    """Compare the models, fit the best by ROC AUC, calibrate it on held-out labelled rows, score ``current``.

    ``scores`` has customer_id, churn_probability, risk (high/medium/low), drivers (the top three reasons
    in words, joined by "; ", amounts in ``currency``) and driver_1..driver_3, highest risk first.
    """
    # One thread for OpenMP and BLAS: rows are customers, too few to gain from threads, and on a busy two-core
    # worker OpenMP's spinning threads made one gradient boosting fit take 40 s instead of 0.3 s.
    with threadpool_limits(limits=1):
        return _churn_risk(train, test, current, seed, window_days, currency)


def _churn_risk(train: pd.DataFrame, test: pd.DataFrame, current: pd.DataFrame, seed: int,
                window_days: int, currency: str | None) -> ChurnResult:
    table, reason = compare_models(train, test, seed)
    if reason:
        return ChurnResult(skipped=reason, window_days=window_days)
    if current is None or current.empty or "customer_id" not in current:
        return ChurnResult(models=table, best_model=table.loc[0, "model"], window_days=window_days,
                           skipped="There are no current customers to score.")
    best = table.loc[0, "model"]
    labelled = pd.concat([train, test], ignore_index=True).dropna(subset=["customer_id"])
    x_all = _matrix(labelled)
    calibrated = _calibrated(candidate_models(seed)[best], _capped(labelled, MAX_FIT_ROWS, seed), x_all.columns,
                             seed)
    current = current.dropna(subset=["customer_id"]).reset_index(drop=True)
    x_now = _matrix(current)[x_all.columns]
    proba = calibrated.predict_proba(x_now)[:, 1]
    contributions = local_contributions(calibrated, x_now, x_all.median(), base=proba)
    drivers = _driver_lists(x_now, contributions, window_days, currency)
    scores = pd.DataFrame({
        "customer_id": current["customer_id"].astype(str),
        "churn_probability": np.round(proba, 4),
        "risk": pd.cut(proba, [-0.01, 0.3, 0.6, 1.01], labels=["low", "medium", "high"]).astype(str),
        "drivers": ["; ".join(d) for d in drivers],
    })
    for k in range(3):
        scores[f"driver_{k + 1}"] = [d[k] if len(d) > k else "" for d in drivers]
    scores = scores.sort_values("churn_probability", ascending=False, ignore_index=True)
    return ChurnResult(models=table, best_model=best, scores=scores, window_days=window_days)


def _calibrated(model: Pipeline, labelled: pd.DataFrame, columns: pd.Index, seed: int) -> CalibratedClassifierCV:
    """``model`` fitted once on most labelled rows and calibrated on a stratified held-out part.

    One fit and one model to predict with, where cross-validated calibration costs three of each.
    """
    y = labelled["churned"].astype(int)
    fit, held = train_test_split(labelled, test_size=CALIBRATION_SHARE, stratify=y, random_state=seed)
    y_held = held["churned"].astype(int)
    model.fit(_matrix(fit)[columns], fit["churned"].astype(int))
    method = "isotonic" if min(y_held.value_counts()) >= ISOTONIC_MIN else "sigmoid"
    return CalibratedClassifierCV(FrozenEstimator(model), method=method).fit(_matrix(held)[columns], y_held)


def local_contributions(model, features: pd.DataFrame, reference: pd.Series,
                        base: np.ndarray | None = None) -> pd.DataFrame:
    """How much each feature raises the predicted probability for each row.

    A feature's contribution is the drop in probability when that feature alone is set to the reference
    (typical) value: model-agnostic and exact for the fitted model. Rows already at the reference contribute
    nothing and are not predicted; the others go to the model in one batch. ``base`` is the model's
    probability for ``features`` when the caller already has it.
    """
    if base is None:
        base = model.predict_proba(features)[:, 1]
    out = np.zeros(features.shape, dtype=float)
    moved, where = [], []
    for j, column in enumerate(features.columns):
        values, typical = features[column], reference[column]
        same = values.isna() if pd.isna(typical) else values.eq(typical).fillna(False)
        rows = np.flatnonzero(~same.to_numpy(dtype=bool))
        if rows.size:
            moved.append(features.iloc[rows].assign(**{column: typical}))
            where.append((rows, j))
    if moved:
        proba = model.predict_proba(pd.concat(moved, ignore_index=True))[:, 1]
        start = 0
        for rows, j in where:
            out[rows, j] = base[rows] - proba[start:start + rows.size]
            start += rows.size
    return pd.DataFrame(out, index=features.index, columns=features.columns)


def _driver_lists(values: pd.DataFrame, contributions: pd.DataFrame, window: int,
                  currency: str | None) -> list[list[str]]:
    """Per customer, the top three features that raise their risk, as sentences about their own figures.

    The four trend figures count as one driver. Ranking is done on arrays; only the chosen three are put in words.
    """
    trend = [c for c in TREND if c in contributions]
    names = ["trend", *(c for c in contributions.columns if c not in TREND)]
    grouped = np.column_stack([contributions[trend].sum(axis=1).to_numpy() if trend else np.zeros(len(values)),
                               contributions[names[1:]].to_numpy()])
    # by contribution, then by name (both descending), as sorting (value, name) pairs would
    name_rank = np.argsort(np.argsort(names)).astype(float)
    order = np.lexsort((np.broadcast_to(-name_rank, grouped.shape), -grouped), axis=1)[:, :3]
    top = np.take_along_axis(grouped, order, axis=1) > 0.02
    out = []
    for row, picked, keep in zip(values.to_dict("records"), order.tolist(), top.tolist(), strict=True):
        words = [_describe(names[k], row, window, currency) for k, ok in zip(picked, keep, strict=True) if ok]
        out.append([w for w in words if w] or ["nothing in their buying pattern points to leaving"])
    return out


def _describe(name: str, row: dict[str, float], window: int, currency: str | None) -> str:
    get = lambda key: float(row.get(key, np.nan))  # noqa: E731
    if name == "recency_days":
        gap = get("avg_days_between")
        usual = f" (usually every {gap:.0f} days)" if np.isfinite(gap) and gap > 0 else ""
        return f"no purchase for {get('recency_days'):.0f} days{usual}"
    if name == "trend":
        recent, prior = get("orders_recent"), get("orders_prior")
        if recent < prior:
            return f"orders fell from {prior:.0f} to {recent:.0f} (last {window} days vs the {window} before)"
        if recent == 0:
            return f"no orders in the last {2 * window} days"
        return f"only {recent:.0f} order(s) in the last {window} days"
    templates = {
        "orders": lambda: f"{get('orders'):.0f} orders in total",
        "monetary": lambda: f"{money(get('monetary'), currency)} spent in total",
        "aov": lambda: f"average order of {money(get('aov'), currency)}",
        "tenure_days": lambda: f"a customer for {get('tenure_days'):.0f} days",
        "returned": lambda: f"returned goods worth {money(get('returned'), currency)}",
        "distinct_products": lambda: f"bought {get('distinct_products'):.0f} different products",
        "distinct_categories": lambda: f"buys from {get('distinct_categories'):.0f} categories",
        "avg_days_between": lambda: (f"usually {get('avg_days_between'):.0f} days between orders"
                                     if np.isfinite(get("avg_days_between")) else "only one order so far"),
    }
    return templates[name]() if name in templates else ""
