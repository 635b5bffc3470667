"""Product recommendations: four recommenders compared on each customer's latest purchases, the winner
serves top-N unbought products per customer, each with a sentence saying why.

Input is ``interactions.sql`` (customer x product: orders, quantity, amount, last_ts) and a catalogue
(product_id, product_name, category), so the work grows with customers and products, not rows. The
recommenders themselves are in :mod:`chalicelib.analytics.recommenders`. Surprise models learn from at most
``max_ratings`` ratings (whole customers, seeded sample); the comparison uses customers inside that sample,
and customers outside it are served by the item co-occurrence ranker (the ``model`` column says so).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from chalicelib.analytics.purchases import (
    DENSE_CELLS,
    PurchaseMatrix,
    clean_interactions,
    co_buyers,
    cosine,
    dense_rows,
)
from chalicelib.analytics.recommenders import (
    COOCCURRENCE,
    POPULARITY,
    CoOccurrence,
    SurpriseModel,
    candidates,
    surprise_sample,
)

K = 10
MIN_CUSTOMERS = 3
MIN_PRODUCTS = 2
MIN_EVAL_CUSTOMERS = 10
MAX_RATINGS = 50_000
MAX_EVAL_CUSTOMERS = 1_000
CHUNK = 2_000


@dataclass
class Recommendations:
    """Top-N products per customer with reasons, the model comparison, and the chosen model."""

    items: pd.DataFrame = field(default_factory=pd.DataFrame)
    evaluation: pd.DataFrame = field(default_factory=pd.DataFrame)
    model: str | None = None
    skipped: str | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.skipped is None


# -------------------------------------------------------------------------------------------- evaluation ---
def _holdout(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each customer's latest product(s) held out, for customers who keep at least one other product."""
    if "last_ts" not in frame or frame["last_ts"].isna().all():
        return frame, frame.iloc[0:0]
    customer = pd.factorize(frame["customer_id"])[0]  # grouping by integer codes: 5x faster than by strings
    latest = frame["last_ts"].groupby(customer).transform("max")
    is_latest = frame["last_ts"].eq(latest)
    keeps_some = (~is_latest).groupby(customer).transform("any")
    test = is_latest & keeps_some
    return frame[~test], frame[test]


def _top(scores: np.ndarray, exclude: sparse.csr_matrix, k: int) -> np.ndarray:
    scores = np.where(exclude.toarray() > 0, -np.inf, scores)
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(-scores, top, axis=1).argsort(axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def evaluate(interactions: pd.DataFrame, *, k: int = K, seed: int = 0, max_ratings: int = MAX_RATINGS,
             max_customers: int = MAX_EVAL_CUSTOMERS) -> tuple[pd.DataFrame, str | None]:
    """HitRate@k, Precision@k and nDCG@k of each recommender on each customer's latest purchase(s)."""
    frame = clean_interactions(interactions)
    train, test = _holdout(frame)
    m = PurchaseMatrix(train, products=pd.Index(sorted(frame["product_id"].unique())))
    # compare every model on customers the Surprise models learned from, so none is judged on strangers
    sampled = set(m.customers[surprise_sample(m, max_ratings, seed)])
    customers = np.array([c for c in test["customer_id"].unique() if c in sampled])
    if len(customers) < MIN_EVAL_CUSTOMERS:
        return pd.DataFrame(), (f"Only {len(customers)} customers have an earlier purchase to learn from and a "
                                f"later one to check against; at least {MIN_EVAL_CUSTOMERS} are needed to compare "
                                "recommenders.")
    if len(customers) > max_customers:
        customers = np.random.default_rng(seed).choice(customers, max_customers, replace=False)
    rows = m.customers.get_indexer(customers)
    held = PurchaseMatrix(test[test["customer_id"].isin(customers)], customers=m.customers[rows], products=m.products)
    truth = held.bought
    results = []
    for model in candidates(seed, max_ratings):
        model.fit(m, seed)
        top = _top(model.score(m, rows), m.bought[rows], k)
        hits = np.take_along_axis(truth.toarray(), top, axis=1) > 0
        gains = hits / np.log2(np.arange(2, top.shape[1] + 2))
        ideal_n = np.minimum(np.asarray(truth.sum(axis=1)).ravel(), top.shape[1]).astype(int)
        ideal = np.array([np.sum(1 / np.log2(np.arange(2, n + 2))) for n in ideal_n])
        results.append({"model": model.name, "hit_rate": hits.any(axis=1).mean(),
                        "precision": hits.sum(axis=1).mean() / k, "ndcg": np.mean(gains.sum(axis=1) / ideal),
                        "customers": len(rows)})
    table = pd.DataFrame(results).sort_values(["hit_rate", "ndcg"], ascending=False, ignore_index=True)
    return table.round({"hit_rate": 4, "precision": 4, "ndcg": 4}), None


# ------------------------------------------------------------------------------------------ recommending ---
def _catalogue(catalogue: pd.DataFrame | None, products: pd.Index) -> pd.DataFrame:
    """Name and category per product id, falling back to the id when the catalogue does not know it."""
    out = pd.DataFrame(index=pd.Index(products, name="product_id"))
    if catalogue is not None and not catalogue.empty:
        known = catalogue.assign(product_id=catalogue["product_id"].astype(str)).drop_duplicates("product_id")
        out = out.join(known.set_index("product_id")[[c for c in ("product_name", "category") if c in known]])
    out["product_name"] = out.get("product_name", pd.Series(index=out.index, dtype=object)).fillna(
        pd.Series(out.index, index=out.index)).astype(str)
    out["category"] = out.get("category", pd.Series(index=out.index, dtype=object)).fillna("").astype(str)
    return out


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class _Explainer:
    """Why a product suits a customer, from evidence a person can check: co-buyers, then favourite category."""

    def __init__(self, m: PurchaseMatrix, info: pd.DataFrame, model: str) -> None:
        self.m, self.model = m, model
        self.names = info["product_name"].to_numpy()
        self.category = info["category"].to_numpy()
        self.favourite = self._favourites(m.counts)
        self.companions = self._companions(m.bought)

    @staticmethod
    def _companions(bought: sparse.csr_matrix) -> np.ndarray | sparse.csr_matrix:
        """Products x products: the cosine of their buyer sets where at least two customers bought both, so a
        specific companion outranks a product everyone buys."""
        together = co_buyers(bought)
        if sparse.issparse(together):
            together.data[together.data < 2] = 0
            together.eliminate_zeros()
        else:
            together = np.where(together >= 2, together, 0.0)
        return cosine(together, np.asarray(bought.sum(axis=0)).ravel())

    def _favourites(self, counts: sparse.csr_matrix) -> np.ndarray:
        categories = pd.Index(sorted(set(self.category) - {""}))
        if categories.empty:
            return np.full(counts.shape[0], "", dtype=object)
        onehot = sparse.csr_matrix((np.ones(len(self.category)), (np.arange(len(self.category)),
                                    np.maximum(categories.get_indexer(self.category), 0))),
                                   shape=(len(self.category), len(categories)))
        onehot = onehot.multiply((categories.get_indexer(self.category) >= 0)[:, None]).tocsr()
        per_category = np.asarray((counts @ onehot).todense())
        best = per_category.argmax(axis=1)
        return np.where(per_category.max(axis=1) > 0, categories.to_numpy()[best], "")

    def reasons(self, rows: np.ndarray, items: np.ndarray) -> list[str]:
        """One sentence per (customer at ``rows[x]``, product ``items[x]``) pair."""
        first, second = self._evidence(rows, items)
        return [self._reason(row, item, [j for j in (a, b) if j >= 0])
                for row, item, a, b in zip(rows.tolist(), items.tolist(), first.tolist(), second.tolist())]

    def _evidence(self, rows: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per pair, the two products the customer bought that are the item's closest companions (-1: none);
        on equal closeness the earlier product wins."""
        first, second = np.full(len(rows), -1), np.full(len(rows), -1)
        step = max(1, DENSE_CELLS // max(1, self.companions.shape[1]))
        for start in range(0, len(rows), step):
            at = slice(start, start + step)
            closeness = dense_rows(self.companions, items[at]) * self.m.bought[rows[at]].toarray()
            pairs = np.arange(closeness.shape[0])
            for out in (first, second):
                best = closeness.argmax(axis=1)  # the first of equal maxima
                out[at] = np.where(closeness[pairs, best] > 0, best, -1)
                closeness[pairs, best] = 0
        return first, second

    def _reason(self, row: int, item: int, evidence: list[int]) -> str:
        if evidence:
            return f"Customers who bought {_names([self.names[j] for j in evidence])} also bought this"
        favourite = self.favourite[row]
        if favourite and self.category[item] == favourite:
            return f"Popular in your favourite category, {favourite}"
        if self.model == POPULARITY:
            return "One of our best sellers"
        if self.category[item]:
            return f"Customers with tastes like yours buy {self.category[item]} products like this"
        return "Customers with tastes like yours buy this"


def popular_products(interactions: pd.DataFrame, catalogue: pd.DataFrame | None = None, *, n: int = K,
                     category: str | None = None, exclude: set[str] | None = None) -> pd.DataFrame:
    """Best sellers by number of buyers, within a category when one is given (the cold-start fallback)."""
    frame = clean_interactions(interactions)
    buyers = frame.groupby("product_id")["customer_id"].nunique().sort_values(ascending=False, kind="stable")
    info = _catalogue(catalogue, buyers.index)
    table = info.assign(score=buyers.astype(float)).reset_index()
    if exclude:
        table = table[~table["product_id"].isin(exclude)]
    if category:
        in_category = table[table["category"].str.casefold() == category.casefold()]
        if not in_category.empty:
            return in_category.head(n).assign(reason=f"A best seller in {in_category['category'].iloc[0]}, "
                                                     "your favourite category").reset_index(drop=True)
    return table.head(n).assign(reason="One of our best sellers").reset_index(drop=True)


def recommend(interactions: pd.DataFrame, catalogue: pd.DataFrame | None = None, *, n: int = K,
              customers: list[str] | None = None, favourite_categories: dict[str, str] | None = None,
              seed: int = 0, max_ratings: int = MAX_RATINGS) -> Recommendations:
    """Compare the recommenders, refit the winner on all purchases and list top-``n`` unbought products.

    ``items`` has customer_id, rank, product_id, product_name, category, score, reason and model (the
    model that ranked the row; "Popularity (new customer)" for customers without purchases, who get best
    sellers in ``favourite_categories[customer]`` when known). Already-bought products are never listed.
    """
    if interactions is None or interactions.empty or "customer_id" not in interactions:
        return Recommendations(skipped="No purchases with customer ids, so there is nobody to recommend to.")
    frame = clean_interactions(interactions)
    n_customers, n_products = frame["customer_id"].nunique(), frame["product_id"].nunique()
    if n_customers < MIN_CUSTOMERS or n_products < MIN_PRODUCTS:
        return Recommendations(skipped=(f"{n_customers} customer(s) and {n_products} product(s) with purchases; "
                                        f"recommendations need at least {MIN_CUSTOMERS} customers and "
                                        f"{MIN_PRODUCTS} products."))
    evaluation, note = evaluate(frame, seed=seed, max_ratings=max_ratings)
    chosen = evaluation.loc[0, "model"] if not evaluation.empty else COOCCURRENCE
    if note:
        note += f" Using {chosen} without a comparison."
    m = PurchaseMatrix(frame)
    model = next(c for c in candidates(seed, max_ratings) if c.name == chosen).fit(m, seed)
    backup = CoOccurrence().fit(m, seed) if isinstance(model, SurpriseModel) else None
    info = _catalogue(catalogue, m.products)
    explainer = _Explainer(m, info, chosen)
    wanted = list(m.customers) if customers is None else [str(c) for c in customers]
    rows = m.customers.get_indexer(wanted)
    parts = [_rank(model, backup, m, rows[rows >= 0][i:i + CHUNK], n, info, explainer)
             for i in range(0, int((rows >= 0).sum()), CHUNK)]
    unknown = [c for c, r in zip(wanted, rows) if r < 0]
    for customer in unknown:
        category = (favourite_categories or {}).get(customer)
        best = popular_products(frame, catalogue, n=n, category=category)
        parts.append(best.assign(customer_id=customer, rank=np.arange(1, len(best) + 1),
                                 model="Popularity (new customer)"))
    columns = ["customer_id", "rank", "product_id", "product_name", "category", "score", "reason", "model"]
    items = pd.concat([p[columns] for p in parts if not p.empty], ignore_index=True) if parts else pd.DataFrame(
        columns=columns)
    return Recommendations(items=items, evaluation=evaluation, model=chosen, note=note or "")


def _rank(model, backup, m: PurchaseMatrix, rows: np.ndarray, n: int, info: pd.DataFrame,
          explainer: _Explainer) -> pd.DataFrame:
    if not len(rows):
        return pd.DataFrame()
    scores = model.score(m, rows)
    used = np.full(len(rows), model.name, dtype=object)
    if backup is not None:
        outside = ~model.known_[rows]
        if outside.any():
            scores[outside] = backup.score(m, rows[outside])
            used[outside] = f"{backup.name} (customer outside the {model.name} sample)"
    owned = m.bought[rows]
    scores = np.where(owned.toarray() > 0, -np.inf, scores)  # never offer what they already have
    top = _top(scores, owned, n)
    # best first, so the unrankable (-inf) products trail: what is finite is a prefix, and ranks run 1, 2, ...
    at, rank = np.nonzero(np.isfinite(np.take_along_axis(scores, top, axis=1)))
    item = top[at, rank]
    return pd.DataFrame({"customer_id": m.customers[rows[at]], "rank": rank + 1, "product_id": m.products[item],
                         "product_name": info["product_name"].to_numpy()[item],
                         "category": info["category"].to_numpy()[item], "score": scores[at, item].round(4),
                         "reason": explainer.reasons(rows[at], item), "model": used[at]})
