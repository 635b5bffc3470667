"""The four recommenders compared for each company: popularity (the baseline), item co-occurrence (implicit
feedback), and Surprise's SVD and item-based KNNBaseline on purchases read as ratings. Each has ``fit(matrix,
seed)`` and ``score(matrix, rows)``: a score for every product, for the customers at ``rows``."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import pandas as pd
from scipy import sparse
from surprise import SVD, Dataset, KNNBaseline, Reader

from chalicelib.analytics.purchases import PurchaseMatrix, co_buyers, cosine, purchase_ratings

POPULARITY, COOCCURRENCE, SVD_NAME, KNN_NAME = "Popularity", "Item co-occurrence", "Surprise SVD", \
    "Surprise KNNBaseline (item-based)"


class Popularity:
    name = POPULARITY

    def fit(self, m: PurchaseMatrix, seed: int) -> Popularity:
        self.scores_ = np.asarray(m.bought.sum(axis=0)).ravel()
        return self

    def score(self, m: PurchaseMatrix, rows: np.ndarray) -> np.ndarray:
        return np.tile(self.scores_, (len(rows), 1))


class CoOccurrence:
    """Implicit item-to-item ranker: cosine similarity of products' buyer sets, summed over what was bought."""

    name = COOCCURRENCE

    def fit(self, m: PurchaseMatrix, seed: int) -> CoOccurrence:
        self.popularity_ = np.asarray(m.bought.sum(axis=0)).ravel()
        self.similarity_ = cosine(co_buyers(m.bought), self.popularity_)
        return self

    def score(self, m: PurchaseMatrix, rows: np.ndarray) -> np.ndarray:
        scores = m.bought[rows] @ self.similarity_
        scores = scores.toarray() if sparse.issparse(scores) else np.asarray(scores)
        # a tiny popularity term breaks ties among products nobody co-bought
        return scores + 1e-6 * self.popularity_ / max(self.popularity_.max(), 1.0)


def surprise_sample(m: PurchaseMatrix, max_ratings: int, seed: int) -> np.ndarray:
    """Which customers the Surprise models learn from: all, or whole customers in seeded random order up to
    ``max_ratings`` ratings (Surprise fits in pure Python loops, so its cost grows with ratings)."""
    per_customer = np.diff(m.counts.indptr)
    if per_customer.sum() <= max_ratings:
        return np.ones(len(per_customer), dtype=bool)
    order = np.random.default_rng(seed).permutation(len(per_customer))
    fits = np.cumsum(per_customer[order]) <= max_ratings
    fits[0] = True  # at least one customer, however many products they bought
    chosen = np.zeros(len(per_customer), dtype=bool)
    chosen[order[fits]] = True
    return chosen


class SurpriseModel(ABC):
    """Shared plumbing for the Surprise models: ratings in, a trainset on a bounded customer sample."""

    name = ""

    def __init__(self, max_ratings: int) -> None:
        self.max_ratings = max_ratings

    @abstractmethod
    def _algo(self, seed: int):
        """The unfitted Surprise algorithm."""

    @abstractmethod
    def score(self, m: PurchaseMatrix, rows: np.ndarray) -> np.ndarray:
        """Estimated rating of every product for the customers at ``rows``."""

    def fit(self, m: PurchaseMatrix, seed: int) -> SurpriseModel:
        coo = m.counts.tocoo()
        keep = surprise_sample(m, self.max_ratings, seed)[coo.row]
        ratings = purchase_ratings(pd.DataFrame({"customer_id": m.customers[coo.row[keep]],
                                                 "product_id": m.products[coo.col[keep]], "orders": coo.data[keep]}))
        data = Dataset.load_from_df(ratings[["customer_id", "product_id", "rating"]], Reader(rating_scale=(1, 5)))
        self.trainset_ = data.build_full_trainset()
        self.algo_ = self._algo(seed)
        self.algo_.fit(self.trainset_)
        self.known_ = np.array([self.trainset_.knows_user(self._inner_user(c)) for c in m.customers])
        return self

    def _inner_user(self, raw: str) -> int:
        try:
            return self.trainset_.to_inner_uid(raw)
        except ValueError:
            return -1

    def _inner_items(self, m: PurchaseMatrix) -> np.ndarray:
        out = np.full(len(m.products), -1)
        for j, raw in enumerate(m.products):
            try:
                out[j] = self.trainset_.to_inner_iid(raw)
            except ValueError:
                pass
        return out


class SVDModel(SurpriseModel):
    name = SVD_NAME

    def _algo(self, seed: int):
        return SVD(n_factors=30, n_epochs=30, random_state=seed)

    def score(self, m: PurchaseMatrix, rows: np.ndarray) -> np.ndarray:
        """SVD's own estimate, mu + b_u + b_i + p_u . q_i, computed for all pairs at once from its fitted factors."""
        algo, items = self.algo_, self._inner_items(m)
        known_item = items >= 0
        item_bias = np.where(known_item, algo.bi[np.maximum(items, 0)], 0.0)
        factors = np.where(known_item[:, None], algo.qi[np.maximum(items, 0)], 0.0)
        users = np.array([self._inner_user(c) for c in m.customers[rows]])
        known_user = users >= 0
        user_bias = np.where(known_user, algo.bu[np.maximum(users, 0)], 0.0)
        user_factors = np.where(known_user[:, None], algo.pu[np.maximum(users, 0)], 0.0)
        return self.trainset_.global_mean + user_bias[:, None] + item_bias[None, :] + user_factors @ factors.T


class KNNModel(SurpriseModel):
    name = KNN_NAME

    def _algo(self, seed: int):
        return KNNBaseline(k=40, sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False)

    def score(self, m: PurchaseMatrix, rows: np.ndarray) -> np.ndarray:
        """Surprise's own KNNBaseline estimate for every product at once (its ``estimate`` is one pair per Python
        call): the baseline mu + b_u + b_i, plus the similarity-weighted residuals of the ``k`` products most
        similar to i among those the customer rated, counting only positive similarities."""
        algo, trainset = self.algo_, self.trainset_
        items = self._inner_items(m)
        known = np.flatnonzero(items >= 0)
        scores = np.full((len(rows), len(m.products)), -np.inf)
        mu, k = trainset.global_mean, algo.k
        for r, row in enumerate(rows):
            user = self._inner_user(m.customers[row])
            if user < 0:
                continue
            rated = np.array(trainset.ur[user])
            neighbours, ratings = rated[:, 0].astype(int), rated[:, 1]
            residual = ratings - (mu + algo.bi[neighbours] + algo.bu[user])
            sim = algo.sim[np.ix_(items[known], neighbours)]
            if sim.shape[1] > k:
                nearest = np.argpartition(-sim, k - 1, axis=1)[:, :k]
                sim, residual_k = np.take_along_axis(sim, nearest, axis=1), residual[nearest]
            else:
                residual_k = np.broadcast_to(residual, sim.shape)
            weight = np.where(sim > 0, sim, 0.0)
            total = weight.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                shift = np.where(total > 0, (weight * residual_k).sum(axis=1) / total, 0.0)
            scores[r, known] = mu + algo.bu[user] + algo.bi[items[known]] + shift
        return scores


def candidates(seed: int, max_ratings: int) -> list:
    return [Popularity(), CoOccurrence(), SVDModel(max_ratings), KNNModel(max_ratings)]
