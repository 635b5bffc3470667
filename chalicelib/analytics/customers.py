"""Customer segments: RFM groups everyone understands, and K-Means clusters named from their profile.

Inputs are the SQL aggregates ``customer_features.sql`` (one row per customer) and, optionally,
``customer_category.sql`` (the long category mix), so the work here grows with customers, not rows.
"""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import pairwise_distances, silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

MIN_CUSTOMERS_RFM = 5
MIN_CUSTOMERS_CLUSTERS = 10
SILHOUETTE_SAMPLE = 4000  # silhouette is O(n^2): score a seeded sample when there are more customers
MINIBATCH_ABOVE = 50_000  # customers above which K-Means runs in mini-batches
SINGLE_THREAD_BELOW = 20_000  # rows under which models fit on one thread
BEHAVIOUR = ("monetary", "frequency", "recency_days", "aov")
RECENCY_WEIGHT = 0.5  # see _design
MIX_PRIOR_ORDERS = 5.0  # see _design

# The standard RFM segment map: keyed by recency score and the mean of frequency and monetary scores.
_RFM_MAP = (
    ("Champions", "Bought recently, buy often and spend the most.", lambda r, fm: r >= 5 and fm >= 4),
    ("Loyal", "Buy often and spend well; still active.", lambda r, fm: r >= 3 and fm >= 4),
    ("Potential loyalist", "Recent customers with average frequency; can become loyal.",
     lambda r, fm: r >= 4 and fm >= 2),
    ("New", "Bought recently for the first time or so.", lambda r, fm: r >= 5 and fm < 2),
    ("Promising", "Recent shoppers who have not spent much yet.", lambda r, fm: r >= 4 and fm < 2),
    ("Need attention", "Average recency, frequency and spend; may slip without a nudge.",
     lambda r, fm: r == 3),
    ("Can't lose", "Used to buy often and spend big, but not for a long time.", lambda r, fm: r <= 2 and fm >= 5),
    ("At risk", "Spent and bought often, but long ago.", lambda r, fm: r <= 2 and fm >= 3),
    ("Hibernating", "Last purchase long ago, few orders, low spend.", lambda r, fm: r <= 2 and fm >= 2),
    ("Lost", "Lowest recency, frequency and spend.", lambda r, fm: True),
)
RFM_SEGMENTS = tuple(name for name, _, _ in _RFM_MAP)


@dataclass
class Segmentation:
    """Customers with their segment, and one profile row per segment; ``skipped`` says why when empty."""

    method: str
    customers: pd.DataFrame = field(default_factory=pd.DataFrame)
    profile: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: str | None = None
    k: int | None = None
    silhouette: pd.DataFrame = field(default_factory=pd.DataFrame)  # k, silhouette

    @property
    def ok(self) -> bool:
        return self.skipped is None


def few_threads(rows: int) -> AbstractContextManager:
    """One thread for small fits: OpenMP start-up and contention cost more than they save on a few thousand rows."""
    return threadpool_limits(limits=1) if rows < SINGLE_THREAD_BELOW else nullcontext()


def _usable(features: pd.DataFrame, minimum: int, what: str) -> tuple[pd.DataFrame, str | None]:
    """The customers with an id and purchase figures, or why there are too few to go on."""
    if features is None or features.empty or "customer_id" not in features:
        return pd.DataFrame(), f"No customer ids in the sales data, so there are no {what}. Map a customer column."
    missing = [c for c in BEHAVIOUR if c not in features]
    if missing:
        return pd.DataFrame(), f"The customer figures lack {', '.join(missing)}; run customer_features.sql first."
    frame = features.dropna(subset=["customer_id"]).copy()
    frame["customer_id"] = frame["customer_id"].astype(str)
    for column in BEHAVIOUR:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame = frame.dropna(subset=list(BEHAVIOUR)).reset_index(drop=True)
    if len(frame) < minimum:
        return frame, (f"Only {len(frame)} customer(s) with purchases; {what} need at least {minimum}. "
                       "Come back when more customers have bought.")
    return frame, None


def _quintile(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Scores 1-5 by rank, so ties and skew never leave a quintile empty or break the cut."""
    pct = values.rank(method="average", pct=True, ascending=higher_is_better)
    return np.ceil(pct * 5).clip(1, 5).astype(int)


def rfm(features: pd.DataFrame, category: pd.DataFrame | None = None) -> Segmentation:
    """RFM scores (quintiles, 5 = best) and the standard named RFM group of every customer."""
    frame, reason = _usable(features, MIN_CUSTOMERS_RFM, "RFM groups")
    if reason:
        return Segmentation("rfm", skipped=reason)
    scores = frame[["customer_id", "recency_days", "frequency", "monetary"]].copy()
    scores["r_score"] = _quintile(frame["recency_days"], higher_is_better=False)
    scores["f_score"] = _quintile(frame["frequency"])
    scores["m_score"] = _quintile(frame["monetary"])
    scores["rfm"] = scores["r_score"].astype(str) + scores["f_score"].astype(str) + scores["m_score"].astype(str)
    fm = (scores["f_score"] + scores["m_score"]) / 2
    named = [next((name, text) for name, text, rule in _RFM_MAP if rule(r, m))
             for r, m in zip(scores["r_score"], fm)]
    scores["segment"] = [name for name, _ in named]
    scores["description"] = [text for _, text in named]
    profile = segment_profile(frame, scores["segment"], category, order=RFM_SEGMENTS)
    profile["description"] = profile["segment"].map({name: text for name, text, _ in _RFM_MAP})
    return Segmentation("rfm", customers=scores, profile=profile)


def category_mix(category: pd.DataFrame | None, customer_ids: pd.Series, top: int = 8) -> pd.DataFrame:
    """Wide category shares (top categories, the rest as "Other"), one row per customer id.

    Shares of orders, not of money, when the SQL provides them: taste is how often a customer picks a
    category, and one bike would otherwise swamp a year of accessories.
    """
    index = pd.Index(customer_ids.astype(str), name="customer_id")
    if category is None or category.empty:
        return pd.DataFrame(index=index)
    share = "order_share" if "order_share" in category else "amount_share"
    weight = "orders" if share == "order_share" else "amount"
    long = category.assign(customer_id=category["customer_id"].astype(str),
                           category=category["category"].astype(str))
    ranked = long.groupby("category")[weight].sum().sort_values(ascending=False).index
    keep = set(ranked[:top]) if len(ranked) > top + 1 else set(ranked)
    long["category"] = long["category"].where(long["category"].isin(keep), "Other")
    wide = long.pivot_table(index="customer_id", columns="category", values=share, aggfunc="sum",
                            observed=True)
    ordered = [c for c in ranked if c in wide.columns] + (["Other"] if "Other" in wide.columns else [])
    return wide.reindex(index=index, columns=ordered).fillna(0.0)


def _design(frame: pd.DataFrame, mix: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """The clustering matrix, and the standardised behaviour used to name clusters.

    Spend and orders are per month of tenure, so a customer who joined last month is not "low value"
    just for being new. Category shares are shrunk towards everyone's mix by ``MIX_PRIOR_ORDERS``
    pseudo-orders, so one or two purchases do not make an extreme taste. Recency counts half: it is a
    single snapshot that mostly reflects timing, and at full weight it splits groups with the same habits.
    """
    months = np.maximum(frame["tenure_days"].to_numpy(float) / 30.4, 1.0) if "tenure_days" in frame else 1.0
    behaviour = pd.DataFrame({
        "spend": frame["monetary"].clip(lower=0).to_numpy(float) / months,
        "frequency": frame["frequency"].clip(lower=0).to_numpy(float) / months,
        "aov": frame["aov"].clip(lower=0).to_numpy(float),
        "recency": frame["recency_days"].clip(lower=0).to_numpy(float),
    })
    logged = np.log1p(behaviour)
    spread = logged.std(ddof=0).replace(0, 1.0)
    z = (logged - logged.mean()) / spread
    columns = [z.to_numpy() * np.array([1.0, 1.0, 1.0, RECENCY_WEIGHT])]
    if mix.shape[1] > 1:
        orders = frame["frequency"].clip(lower=0).to_numpy(float)[:, None]
        shares = mix.to_numpy(float)
        shrunk = (orders * shares + MIX_PRIOR_ORDERS * shares.mean(axis=0)) / (orders + MIX_PRIOR_ORDERS)
        shrunk = shrunk[:, shrunk.std(axis=0) > 0]
        if shrunk.shape[1]:
            columns.append(StandardScaler().fit_transform(shrunk))
    return np.hstack(columns), z


def _kmeans(k: int, n: int, seed: int):
    if n > MINIBATCH_ABOVE:
        return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
    return KMeans(n_clusters=k, random_state=seed, n_init=10)


def segment_customers(features: pd.DataFrame, category: pd.DataFrame | None = None, *,
                      k_range: tuple[int, int] = (2, 8), seed: int = 0) -> Segmentation:
    """K-Means segments with k chosen by silhouette, each named in plain words from its profile."""
    frame, reason = _usable(features, MIN_CUSTOMERS_CLUSTERS, "customer segments")
    if reason:
        return Segmentation("kmeans", skipped=reason)
    mix = category_mix(category, frame["customer_id"])
    matrix, behaviour = _design(frame, mix)
    distinct = len(np.unique(np.round(matrix, 9), axis=0))
    if distinct < 3:
        return Segmentation("kmeans", skipped="All customers buy alike, so there are no distinct segments to find.")
    low, high = max(2, k_range[0]), min(k_range[1], distinct - 1, len(frame) - 1)
    scores, fits = [], {}
    # every k is scored on the same customers, so their distances are computed once, not once per k
    scored = np.sort(np.random.default_rng(seed).choice(len(frame), SILHOUETTE_SAMPLE, replace=False)) \
        if len(frame) > SILHOUETTE_SAMPLE else np.arange(len(frame))
    with few_threads(len(frame)):
        distances = pairwise_distances(matrix[scored].astype(np.float32))
        for k in range(low, high + 1):
            labels = _kmeans(k, len(frame), seed).fit_predict(matrix)
            if len(set(labels[scored])) < 2:
                continue
            scores.append((k, float(silhouette_score(distances, labels[scored], metric="precomputed"))))
            fits[k] = labels
    if not scores:
        return Segmentation("kmeans", skipped="Customers could not be split into at least two groups.")
    silhouette = pd.DataFrame(scores, columns=["k", "silhouette"])
    best_k = int(silhouette.loc[silhouette["silhouette"].idxmax(), "k"])
    labels = fits[best_k]
    names = _name_clusters(behaviour, labels, frame, mix)
    customers = frame[["customer_id"]].assign(cluster=labels, segment=[names[c] for c in labels])
    profile = segment_profile(frame, customers["segment"], category)
    profile["description"] = _describe(profile, frame)
    return Segmentation("kmeans", customers=customers, profile=profile, k=best_k, silhouette=silhouette)


def _describe(profile: pd.DataFrame, frame: pd.DataFrame) -> list[str]:
    """One sentence per segment comparing it with the average customer."""
    spend, orders, recency = frame["monetary"].mean(), frame["frequency"].mean(), frame["recency_days"].mean()
    out = []
    for row in profile.itertuples():
        text = (f"Spend {row.avg_spend / spend:.1f}× and order {row.avg_orders / orders:.1f}× as much as the average "
                f"customer; last order {row.avg_recency_days:.0f} days ago on average (overall {recency:.0f})")
        if isinstance(row.top_category, str):
            text += f"; buy {row.top_category} most often"
        out.append(text + ".")
    return out


def _name_clusters(behaviour: pd.DataFrame, labels: np.ndarray, frame: pd.DataFrame,
                   mix: pd.DataFrame) -> dict[int, str]:
    """Plain-word names from how each cluster's mean differs from everyone's (in standard deviations)."""
    names: dict[int, str] = {}
    spend_rank: dict[int, float] = {}
    distinctive: dict[int, str | None] = {}
    overall_mix = mix.mean() if not mix.empty else pd.Series(dtype=float)
    for c in np.unique(labels):
        z = behaviour[labels == c].mean()
        spend_rank[c] = float(frame.loc[labels == c, "monetary"].mean())
        distinctive[c] = None
        if not mix.empty and mix.shape[1] > 1:
            lift = mix[labels == c].mean() / overall_mix.replace(0, np.nan)
            if lift.max() >= 1.3:
                distinctive[c] = str(lift.idxmax())
        if z["recency"] >= 0.8:
            names[c] = "Lapsed"
        elif z["frequency"] >= 0.5 and z["aov"] < 0:
            names[c] = "Frequent small buyers"
        elif z["spend"] >= 0.5:
            names[c] = "High Spenders"
        elif z["aov"] >= 0.5:
            names[c] = "Big-ticket occasional buyers"
        elif z["spend"] <= -0.5:
            names[c] = "Low Spenders"
        elif distinctive[c]:
            names[c] = f"{distinctive[c]} fans"
        else:
            names[c] = "Regulars"
    return _make_distinct(names, distinctive, spend_rank)


def _make_distinct(names: dict[int, str], distinctive: dict[int, str | None],
                   spend: dict[int, float]) -> dict[int, str]:
    """Add the favourite category, then a spend order, to names two clusters share."""
    for base in {n for n in names.values() if list(names.values()).count(n) > 1}:
        for c in [c for c, n in names.items() if n == base]:
            if distinctive[c]:
                names[c] = f"{base} ({distinctive[c]})"
    for base in {n for n in names.values() if list(names.values()).count(n) > 1}:
        same = sorted((c for c, n in names.items() if n == base), key=lambda c: -spend[c])
        for rank, c in enumerate(same, start=1):
            names[c] = f"{base} {rank} (higher spend)" if rank == 1 else f"{base} {rank}"
    return names


def segment_profile(features: pd.DataFrame, segments: pd.Series, category: pd.DataFrame | None = None,
                    order: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Size, share, average spend, orders, recency, order value and top category per segment."""
    frame = features.reset_index(drop=True).assign(segment=segments.to_numpy())
    grouped = frame.groupby("segment", sort=False)
    profile = pd.DataFrame({
        "customers": grouped.size(),
        "avg_spend": grouped["monetary"].mean(),
        "avg_orders": grouped["frequency"].mean(),
        "avg_recency_days": grouped["recency_days"].mean(),
        "avg_order_value": grouped["aov"].mean(),
        "total_spend": grouped["monetary"].sum(),
    })
    profile.insert(1, "share", profile["customers"] / profile["customers"].sum())
    profile["top_category"] = _top_category(frame, category)
    profile = profile.reset_index()
    if order:
        rank = {name: i for i, name in enumerate(order)}
        profile = profile.sort_values("segment", key=lambda s: s.map(rank)).reset_index(drop=True)
    else:
        profile = profile.sort_values("avg_spend", ascending=False).reset_index(drop=True)
    return profile.round({"share": 4, "avg_spend": 2, "avg_orders": 2, "avg_recency_days": 1,
                          "avg_order_value": 2, "total_spend": 2})


def _top_category(frame: pd.DataFrame, category: pd.DataFrame | None) -> pd.Series:
    if category is None or category.empty:
        return pd.Series(dtype=object)
    segment_of = dict(zip(frame["customer_id"].astype(str), frame["segment"]))
    long = category.assign(segment=category["customer_id"].astype(str).map(segment_of)).dropna(subset=["segment"])
    weight = "orders" if "orders" in long else "amount"  # most often picked, as in category_mix
    totals = long.groupby(["segment", "category"], observed=True)[weight].sum().reset_index()
    top = totals.sort_values(weight, ascending=False).drop_duplicates("segment")
    return top.set_index("segment")["category"].astype(str)
