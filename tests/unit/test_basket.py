"""Basket rules: SQL pair counts equal a plain pandas count, planted pairs top the rules by lift, and
data without baskets is skipped with a reason."""
from __future__ import annotations

from collections import Counter
from itertools import combinations

import duckdb
import pandas as pd
import pytest

from chalicelib.analytics.basket import basket_rules, pair_rules, should_mine_triples
from chalicelib.query.aggregates import sql
from chalicelib.samples.generator import retail, truth

SEED = 7
PARAMS = {"min_count": 5, "max_basket": 30}


def _query(sales: pd.DataFrame, name: str, params: dict) -> pd.DataFrame:
    con = duckdb.connect()
    con.register("transactions", sales)
    return con.execute(sql(name), params).df()


@pytest.fixture(scope="module")
def shop():
    sales = pd.concat(list(retail(SEED)), ignore_index=True)
    pairs = _query(sales, "basket_pairs", PARAMS)
    items = _query(sales, "basket_items", {"max_basket": PARAMS["max_basket"]})
    catalogue = _query(sales, "product_catalogue", {})
    return sales, pairs, items, catalogue


def test_sql_counts_match_pandas(shop):
    sales, pairs, items, _ = shop
    baskets = sales[~sales["is_return"]].groupby("order_id")["product_id"].agg(lambda s: sorted(set(map(str, s))))
    baskets = baskets[baskets.str.len() <= PARAMS["max_basket"]]
    pair_counts = Counter(p for basket in baskets for p in combinations(basket, 2))
    item_counts = Counter(i for basket in baskets for i in basket)
    expected = {p: c for p, c in pair_counts.items() if c >= PARAMS["min_count"]}
    got = {(a, b): c for a, b, c in zip(pairs["item_a"], pairs["item_b"], pairs["pair_count"])}
    assert got == expected
    assert dict(zip(items["item"], items["item_count"])) == dict(item_counts)
    assert set(pairs["n_baskets"]) == set(items["n_baskets"]) == {len(baskets)}
    assert all(pairs["count_a"] == pairs["item_a"].map(item_counts))


def test_planted_pairs_are_the_top_rules_by_lift(shop):
    _, pairs, items, catalogue = shop
    result = basket_rules(pairs, catalogue, items=items)
    assert result.ok, result.skipped
    rules = result.rules
    assert rules["lift"].is_monotonic_decreasing
    planted = {frozenset(p) for p in truth(SEED).product_pairs}
    top = rules.head(2 * len(planted))  # each planted pair in both directions
    found = {frozenset((a[0], c)) for a, c in zip(top["antecedent_ids"], top["consequent_id"])}
    assert found == planted
    assert (top["lift"] > 3).all()
    first = rules.iloc[0]
    assert first["rule"].startswith(f"Customers who buy {first['antecedent']} also buy {first['consequent']} ")
    assert f"{first['lift']:.1f}× more often than average" in first["rule"]
    assert set(catalogue["product_name"]) >= set(rules["antecedent"]) | set(rules["consequent"])


def test_support_confidence_lift_arithmetic():
    pairs = pd.DataFrame({"item_a": ["A"], "item_b": ["B"], "pair_count": [20], "count_a": [40], "count_b": [25],
                          "n_baskets": [200]})
    rules = pair_rules(pairs).set_index("consequent_id")
    assert rules.loc["B", "support"] == pytest.approx(0.1)
    assert rules.loc["B", "confidence"] == pytest.approx(0.5)   # A -> B
    assert rules.loc["A", "confidence"] == pytest.approx(0.8)   # B -> A
    assert rules.loc["B", "lift"] == pytest.approx(20 * 200 / (40 * 25))
    strict = basket_rules(pairs, min_confidence=0.6)
    assert list(strict.rules["consequent_id"]) == ["A"]


def test_triples_only_when_cheap(shop):
    sales, pairs, items, catalogue = shop
    stats = _query(sales, "basket_stats", PARAMS)
    cheap, why = should_mine_triples(stats)
    assert cheap and "combinations" in why
    assert not should_mine_triples(stats, budget=1)[0]
    triples = _query(sales, "basket_triples", PARAMS)
    assert (triples["triple_count"] >= PARAMS["min_count"]).all()
    result = basket_rules(pairs, catalogue, triples=triples, items=items)
    sizes = result.rules["antecedent_ids"].map(len)
    assert set(sizes) <= {1, 2} and result.rules["lift"].is_monotonic_decreasing
    for rule in result.rules[sizes == 2]["rule"].head(5):
        assert " and " in rule.split(" also buy ")[0]


def _lines(**columns) -> pd.DataFrame:
    base = {"order_id": ["o1", "o1", "o2"], "ts": pd.to_datetime(["2024-01-01"] * 3), "customer_id": ["c1"] * 3,
            "product_id": ["p1", "p2", "p1"], "product_name": ["A", "B", "A"], "quantity": 1, "is_return": False}
    base.update(columns)
    return pd.DataFrame(base)


@pytest.mark.parametrize("sales", [
    _lines(),                                           # two baskets only
    _lines(order_id=[None] * 3, customer_id=[None] * 3),  # nothing to group lines into baskets
    _lines(product_id=["p1"] * 3),                      # one product
])
def test_too_few_baskets_are_skipped_with_a_reason(sales):
    pairs = _query(sales, "basket_pairs", {"min_count": 1, "max_basket": 30})
    items = _query(sales, "basket_items", {"max_basket": 30})
    result = basket_rules(pairs, items=items)
    assert not result.ok and "baskets" in result.skipped and result.rules.empty


def test_big_baskets_are_left_out():
    sales = _lines(order_id=["o1"] * 3, product_id=["p1", "p2", "p3"])
    assert _query(sales, "basket_pairs", {"min_count": 1, "max_basket": 2}).empty
    assert len(_query(sales, "basket_pairs", {"min_count": 1, "max_basket": 3})) == 3


def test_no_rule_clears_the_bar():
    pairs = pd.DataFrame({"item_a": ["A"], "item_b": ["B"], "pair_count": [5], "count_a": [50], "count_b": [50],
                          "n_baskets": [100]})
    result = basket_rules(pairs)
    assert not result.ok and "lift" in result.skipped
