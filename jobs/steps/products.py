"""Steps over customer x product aggregates and basket counts: recommendations, basket rules, leads."""
from __future__ import annotations

from typing import Any

import pandas as pd

from chalicelib.analytics import basket, leads, recommend
from jobs.steps.base import Output, Skip, notes


def recommendations_step(state: Any) -> Output:
    """Top-N unbought products per customer from the recommender that won the hold-out comparison."""
    result = recommend.recommend(state.frame("interactions"), state.frame("product_catalogue"),
                                 n=state.config.recommendations_per_customer, seed=state.config.seed)
    if not result.ok:
        raise Skip(result.skipped)
    meta = {"model": result.model, "note": result.note, "customers": int(result.items["customer_id"].nunique())}
    artifacts = {"recommendations": (result.items, meta)}
    if not result.evaluation.empty:
        evaluation = result.evaluation.assign(task="recommendations", label=result.evaluation["model"],
                                              chosen=result.evaluation["model"] == result.model)
        artifacts["model_comparison"] = (evaluation, {})
    return Output(artifacts, note=result.note)


def basket_step(state: Any) -> Output:
    """Pair rules from the SQL pair counts; three-product rules too when the triple count is affordable."""
    config = state.config
    mine, triple_note = basket.should_mine_triples(state.frame("basket_stats"), config.basket_triple_budget)
    triples = state.frame("basket_triples") if mine else None
    result = basket.basket_rules(state.frame("basket_pairs"), state.frame("product_catalogue"), triples=triples,
                                 items=state.frame("basket_items") if mine else None, top=config.basket_top_rules)
    if not result.ok:
        raise Skip(result.skipped)
    rules = result.rules.assign(size=result.rules["antecedent_ids"].map(len) + 1)
    meta = {"baskets": result.n_baskets, "triples": triple_note, "min_count": config.basket_min_count}
    return Output({"basket_rules": (rules, meta)}, note=triple_note if not mine else "")


def _top_categories(catalogue: pd.DataFrame, n: int) -> list[str]:
    if catalogue is None or catalogue.empty:
        return []
    revenue = catalogue.groupby(catalogue["category"].astype(str))["revenue"].sum()
    return revenue[revenue > 0].nlargest(n).index.tolist()


def _launch(state: Any, category: str, catalogue: pd.DataFrame) -> tuple[leads.Leads, dict[str, Any]]:
    """Lookalikes of the buyers of products priced like the category's best seller: a launch list for a new one."""
    in_category = catalogue[catalogue["category"].astype(str) == category]
    best = in_category.sort_values("revenue", ascending=False).iloc[0]
    band = state.config.launch_price_band
    price = float(best["avg_price"]) if pd.notna(best["avg_price"]) else None
    low, high = (price * (1 - band), price * (1 + band)) if price else (None, None)
    result = leads.launch_leads(state.frame("customer_features"), state.frame("customer_category"),
                                state.frame("interactions"), catalogue, launch_category=category, price_low=low,
                                price_high=high, top=state.config.leads_per_list, currency=state.facts.currency)
    return result, {"category": category, "price_low": low, "price_high": high, "like": str(best["product_name"])}


def leads_step(state: Any) -> Output:
    """Cross-sell lists for the best-selling categories, a launch list for the top one, and scored prospects."""
    config, facts = state.config, state.facts
    parts, skipped, quality, meta = [], [], {}, {}
    if facts.customers:
        features, category = state.frame("customer_features"), state.frame("customer_category")
        catalogue = state.frame("product_catalogue")
        targets = _top_categories(catalogue, config.lead_categories)
        for target in targets:
            result = leads.cross_sell_leads(features, category, target_category=target, top=config.leads_per_list,
                                            seed=config.seed, currency=facts.currency)
            _collect(result, "cross_sell", parts, skipped, quality)
        if targets:
            result, meta["launch"] = _launch(state, targets[0], catalogue)
            if result.ok:
                result.leads = result.leads.assign(target=f"New {targets[0]} product like {meta['launch']['like']}")
            _collect(result, "launch", parts, skipped, quality)
    if state.has("prospect_rows"):
        result = leads.prospect_leads(state.frame("prospect_rows"), top=config.leads_per_list, seed=config.seed)
        _collect(result, "prospect", parts, skipped, quality)
    if not parts:
        raise Skip(notes(*skipped) or "No leads could be scored from these data.")
    frame = pd.concat(parts, ignore_index=True)
    first = ["kind", "target", "rank", "customer_id", "prospect_id", "score", "reason"]
    frame = frame[[c for c in first if c in frame] + [c for c in frame.columns if c not in first]]
    meta.update(quality=quality, lists=frame.groupby(["kind", "target"]).size().reset_index(name="leads"))
    return Output({"leads": (frame, meta)}, note=notes(*skipped))


def _collect(result: leads.Leads, kind: str, parts: list, skipped: list, quality: dict) -> None:
    """Add one list's rows (tagged with its kind) or its skip reason."""
    if not result.ok:
        skipped.append(result.skipped)
        return
    frame = result.leads
    if "target" not in frame:
        frame = frame.assign(target="Prospects" if kind == "prospect" else kind)
    parts.append(frame.assign(kind=kind))
    quality.update({f"{kind}: {name}": value for name, value in result.quality.items()})
    if result.note:
        skipped.append(result.note)
