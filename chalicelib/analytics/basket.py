"""Basket rules ("customers who buy X also buy Y") from the pair, triple and item counts the SQL returns.

``basket_pairs.sql`` already did the heavy counting; here support, confidence and lift are divisions, and
rules are filtered, ranked by lift and written in words.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MIN_BASKETS = 10
TRIPLE_GAIN = 1.5  # a two-product rule must beat its one-product rules' confidence by this factor
TRIPLE_BUDGET = 20_000_000  # triples to enumerate in SQL before the query is deemed too costly
RULE_COLUMNS = ["antecedent_ids", "antecedent", "consequent_id", "consequent", "baskets", "support", "confidence",
                "lift", "rule"]


@dataclass
class BasketRules:
    """Rules ranked by lift; ``skipped`` says why when there are none to show."""

    rules: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RULE_COLUMNS))
    skipped: str | None = None
    n_baskets: int = 0

    @property
    def ok(self) -> bool:
        return self.skipped is None


def should_mine_triples(stats: pd.DataFrame, budget: int = TRIPLE_BUDGET) -> tuple[bool, str]:
    """Whether ``basket_triples.sql`` is cheap enough to run, from the row of ``basket_stats.sql``."""
    if stats is None or stats.empty:
        return False, "No basket figures, so three-product rules were not looked for."
    work = float(stats["triple_work"].iloc[0])
    if work > budget:
        return False, (f"Three-product rules skipped: they would mean checking {work:,.0f} combinations "
                       f"(limit {budget:,}). Lower the basket-size cap or raise the minimum count.")
    return True, f"Three-product rules checked over {work:,.0f} combinations."


def _names(catalogue: pd.DataFrame | None) -> dict[str, str]:
    if catalogue is None or catalogue.empty or "product_name" not in catalogue:
        return {}
    named = catalogue.dropna(subset=["product_id"])
    return dict(zip(named["product_id"].astype(str), named["product_name"].fillna(named["product_id"]).astype(str)))


def _rule_text(antecedent: str, consequent: str, lift: float, confidence: float) -> str:
    return (f"Customers who buy {antecedent} also buy {consequent} {lift:.1f}× more often than average "
            f"({confidence:.0%} of their baskets include it)")


def _filter(rules: pd.DataFrame, min_support: float, min_confidence: float, min_lift: float) -> pd.DataFrame:
    keep = (rules["support"] >= min_support) & (rules["confidence"] >= min_confidence) & (rules["lift"] >= min_lift)
    return rules[keep]


def pair_rules(pairs: pd.DataFrame, catalogue: pd.DataFrame | None = None, *, min_support: float = 0.0,
               min_confidence: float = 0.0, min_lift: float = 1.0) -> pd.DataFrame:
    """Both directions of every pair: support, confidence and lift, from the counts of ``basket_pairs.sql``."""
    if pairs is None or pairs.empty:
        return pd.DataFrame(columns=RULE_COLUMNS)
    names = _names(catalogue)
    frame = pairs.assign(item_a=pairs["item_a"].astype(str), item_b=pairs["item_b"].astype(str))
    n = frame["n_baskets"].astype(float)
    both = frame["pair_count"].astype(float)
    directions = []
    for src, dst, src_count, dst_count in (("item_a", "item_b", "count_a", "count_b"),
                                           ("item_b", "item_a", "count_b", "count_a")):
        directions.append(pd.DataFrame({
            "antecedent_ids": frame[src].map(lambda x: (x,)),
            "antecedent": frame[src].map(lambda x: names.get(x, x)),
            "consequent_id": frame[dst],
            "consequent": frame[dst].map(lambda x: names.get(x, x)),
            "baskets": frame["pair_count"].astype(int),
            "support": both / n,
            "confidence": both / frame[src_count].astype(float),
            "lift": both * n / (frame[src_count].astype(float) * frame[dst_count].astype(float)),
        }))
    return _filter(pd.concat(directions, ignore_index=True), min_support, min_confidence, min_lift)


def triple_rules(triples: pd.DataFrame, pairs: pd.DataFrame, items: pd.DataFrame,
                 catalogue: pd.DataFrame | None = None, *, min_support: float = 0.0, min_confidence: float = 0.0,
                 min_lift: float = 1.0) -> pd.DataFrame:
    """Rules "A and B -> C" from ``basket_triples.sql``, with the pair counts for A+B and item counts for C."""
    if triples is None or triples.empty or pairs is None or pairs.empty or items is None or items.empty:
        return pd.DataFrame(columns=RULE_COLUMNS)
    names = _names(catalogue)
    pair_count = {(str(a), str(b)): int(c) for a, b, c in zip(pairs["item_a"], pairs["item_b"], pairs["pair_count"])}
    count = lambda x, y: pair_count.get((x, y)) or pair_count.get((y, x)) or 0  # noqa: E731
    item_count = dict(zip(items["item"].astype(str), items["item_count"].astype(float)))
    n = float(items["n_baskets"].iloc[0])
    records = []
    for a, b, c, together in zip(triples["item_a"].astype(str), triples["item_b"].astype(str),
                              triples["item_c"].astype(str), triples["triple_count"].astype(float)):
        for x, y, z in ((a, b, c), (a, c, b), (b, c, a)):
            base = count(x, y)
            if not base or z not in item_count:
                continue
            confidence = together / base
            # keep "A and B -> C" only when knowing both says clearly more than either alone
            alone = max(count(x, z) / item_count.get(x, np.inf), count(y, z) / item_count.get(y, np.inf))
            if confidence < TRIPLE_GAIN * alone:
                continue
            records.append({"antecedent_ids": (x, y), "antecedent": f"{names.get(x, x)} and {names.get(y, y)}",
                            "consequent_id": z, "consequent": names.get(z, z), "baskets": int(together),
                            "support": together / n, "confidence": confidence,
                            "lift": confidence / (item_count[z] / n)})
    if not records:
        return pd.DataFrame(columns=RULE_COLUMNS)
    return _filter(pd.DataFrame(records), min_support, min_confidence, min_lift)


def basket_rules(pairs: pd.DataFrame, catalogue: pd.DataFrame | None = None, *, triples: pd.DataFrame | None = None,
                 items: pd.DataFrame | None = None, min_support: float = 0.001, min_confidence: float = 0.05,
                 min_lift: float = 1.0, top: int | None = 100) -> BasketRules:
    """Pair rules (and triple rules when counts are given), filtered and ranked by lift, with readable text."""
    n_baskets = int(pairs["n_baskets"].iloc[0]) if pairs is not None and not pairs.empty else (
        int(items["n_baskets"].iloc[0]) if items is not None and not items.empty else 0)
    if n_baskets < MIN_BASKETS:
        return BasketRules(n_baskets=n_baskets, skipped=(
            f"Only {n_baskets} baskets (orders); basket rules need at least {MIN_BASKETS}. "
            "Orders need an order number (or a customer id and date) to be grouped into baskets."))
    limits = dict(min_support=min_support, min_confidence=min_confidence, min_lift=min_lift)
    parts = [pair_rules(pairs, catalogue, **limits)]
    if triples is not None and items is not None:
        parts.append(triple_rules(triples, pairs, items, catalogue, **limits))
    rules = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else pd.DataFrame(columns=RULE_COLUMNS)
    if rules.empty:
        return BasketRules(n_baskets=n_baskets, skipped=(
            f"No products are bought together often enough (support ≥ {min_support:.1%}, confidence ≥ "
            f"{min_confidence:.0%}, lift ≥ {min_lift:.1f}) across {n_baskets:,} baskets."))
    rules = rules.sort_values(["lift", "support", "confidence"], ascending=False, ignore_index=True)
    rules = rules.head(top) if top else rules
    rules["rule"] = [_rule_text(a, c, lift, conf) for a, c, lift, conf in
                     zip(rules["antecedent"], rules["consequent"], rules["lift"], rules["confidence"])]
    rules = rules.round({"support": 5, "confidence": 4, "lift": 3})
    rules["baskets"] = rules["baskets"].astype(np.int64)
    return BasketRules(rules=rules[RULE_COLUMNS], n_baskets=n_baskets)
