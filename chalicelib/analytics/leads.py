"""Sales leads, each ranked with a reason a salesperson can act on, ready for CSV export.

- cross-sell: existing customers who have not bought a category (or product) yet, by how much they look
  like its buyers (a classifier scored out-of-fold, so nobody is scored by a model that saw their label);
- new-product launch: customers closest to the buyers of similar products (same category, price band);
- prospects: unconverted leads scored by a classifier trained on converted vs not.

Inputs are the per-customer SQL aggregates (``customer_features``, ``customer_category``, ``interactions``,
``product_catalogue``) and an optional prospects frame, so the work grows with customers, not rows.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from chalicelib.analytics.churn import MAX_FIT_ROWS, capped_sample, local_contributions
from chalicelib.analytics.customers import few_threads
from chalicelib.money import money

MIN_CLASS = 5
MIN_CUSTOMERS = 20
MAX_LEVELS = 30  # categorical prospect attributes with more distinct values are ids or free text: left out
BEHAVIOUR_WORDS = {  # each takes the value and the sales' currency
    "spend_per_month": lambda v, c: f"spends {money(v, c)} a month",
    "orders_per_month": lambda v, c: f"orders {v:.1f} times a month",
    "avg_order_value": lambda v, c: f"average order {money(v, c)}",
    "days_since_last_order": lambda v, c: f"last bought {v:.0f} days ago",
}


@dataclass
class Leads:
    """Ranked leads; ``quality`` holds the model's cross-validated ROC AUC; ``skipped`` says why when empty."""

    leads: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: str | None = None
    quality: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.skipped is None


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a header row and no index, as spreadsheet users expect."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


# ------------------------------------------------------------------------------------- customer profiles ---
def customer_profiles(features: pd.DataFrame, category: pd.DataFrame | None,
                      exclude: pd.DataFrame | None = None) -> pd.DataFrame:
    """Readable per-customer figures and share of spend per category (``share:<category>``), by customer id.

    ``exclude`` (customer_id, category, amount, orders) is taken out first: when predicting who buys a
    category, that category's own purchases must not be among the inputs, or the answer leaks into them.
    """
    frame = features.dropna(subset=["customer_id"]).copy()
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame = frame.set_index("customer_id")
    spend = frame["monetary"].astype(float)
    gross = frame["gross_spend"].astype(float) if "gross_spend" in frame else spend
    orders = frame["frequency"].astype(float)
    long = None
    if category is not None and not category.empty:
        long = category.assign(customer_id=category["customer_id"].astype(str),
                               category=category["category"].astype(str))[["customer_id", "category", "amount",
                                                                            "orders"]]
    if exclude is not None and not exclude.empty:
        removed = exclude.assign(customer_id=exclude["customer_id"].astype(str),
                                 category=exclude["category"].astype(str))
        by_customer = removed.groupby("customer_id")[["amount", "orders"]].sum()
        spend = spend - by_customer["amount"].reindex(spend.index).fillna(0)
        gross = gross - by_customer["amount"].reindex(gross.index).fillna(0)
        orders = orders - by_customer["orders"].reindex(orders.index).fillna(0)
        if long is not None:
            cut = removed.groupby(["customer_id", "category"])[["amount", "orders"]].sum()
            long = long.set_index(["customer_id", "category"])
            long = long.sub(cut.reindex(long.index).fillna(0)).reset_index()
    months = np.maximum(pd.to_numeric(frame.get("tenure_days", 30.4), errors="coerce").fillna(30.4) / 30.4, 1.0)
    orders = orders.clip(lower=0)
    profile = pd.DataFrame({
        "spend_per_month": spend.clip(lower=0) / months,
        "orders_per_month": orders / months,
        "avg_order_value": (gross.clip(lower=0) / orders.clip(lower=1)).where(orders > 0, 0.0),
        "days_since_last_order": frame["recency_days"].astype(float).clip(lower=0),
    })
    if long is not None:
        long = long[long["amount"] > 0]
        shares = long.pivot_table(index="customer_id", columns="category", values="amount", aggfunc="sum",
                                  observed=True).fillna(0.0)
        shares = shares.div(shares.sum(axis=1).replace(0, np.nan), axis=0).add_prefix("share:")
        profile = profile.join(shares).fillna(0.0)
    profile.index.name = "customer_id"
    return profile


def _why(row: pd.Series, contribution: pd.Series, reference: pd.Series, target: str, currency: str | None) -> str:
    """The two figures that most raise this customer's score above a typical customer's, in words."""
    words = []
    for name, value in contribution.sort_values(ascending=False).items():
        if value <= 0 or len(words) == 2:
            break
        if name.startswith("share:"):
            more = row[name] > reference[name]
            words.append(f"{'' if more else 'only '}{row[name]:.0%} of spend on {name[6:]}")
        elif name in BEHAVIOUR_WORDS:
            words.append(BEHAVIOUR_WORDS[name](row[name], currency))
    if not words:
        return f"Buys much like typical {target} buyers"
    return f"Buys like {target} buyers: " + "; ".join(words)


def _linear_model():
    return make_pipeline(FunctionTransformer(np.log1p), StandardScaler(),
                         LogisticRegression(max_iter=2000, class_weight="balanced", C=0.5))


def _propensity(profile: pd.DataFrame, bought: pd.Series, seed: int) -> tuple[np.ndarray, object, float]:
    """Purchase propensity per customer, the fitted model, and its cross-validated AUC.

    The model learns from at most ``MAX_FIT_ROWS`` customers (a stratified sample); they get out-of-fold
    scores, every other customer the model's score, so no one is scored by a model that saw their answer.
    """
    fit = capped_sample(bought.to_numpy(), MAX_FIT_ROWS, seed)
    x, y = profile.iloc[fit], bought.iloc[fit]
    folds = StratifiedKFold(n_splits=min(5, int(y.value_counts().min())), shuffle=True, random_state=seed)
    with few_threads(len(profile)):
        out_of_fold = cross_val_predict(_linear_model(), x, y, cv=folds, method="predict_proba")[:, 1]
        model = _linear_model().fit(x, y)
        proba = model.predict_proba(profile)[:, 1] if len(fit) < len(profile) else out_of_fold.copy()
    proba[fit] = out_of_fold
    return proba, model, float(roc_auc_score(y, out_of_fold))


def cross_sell_leads(features: pd.DataFrame, category: pd.DataFrame | None, *, target_category: str | None = None,
                     interactions: pd.DataFrame | None = None, product_id: str | None = None,
                     catalogue: pd.DataFrame | None = None, top: int | None = 100, seed: int = 0,
                     currency: str | None = None) -> Leads:
    """Customers who have not bought ``target_category`` (or ``product_id``), most likely buyers first
    (``currency``: how reasons write amounts).

    With neither given, every category with enough buyers is done and the leads are concatenated.
    Columns: target, rank, customer_id, score (0-1 propensity, out-of-fold), reason, spend_per_month,
    orders_per_month, days_since_last_order.
    """
    if features is None or features.empty or "customer_id" not in features:
        return Leads(skipped="No customer ids in the sales data, so there are no existing customers to target.")
    profile = customer_profiles(features, category)
    if len(profile) < MIN_CUSTOMERS:
        return Leads(skipped=f"Only {len(profile)} customers; cross-sell leads need at least {MIN_CUSTOMERS}.")
    if product_id is not None:
        if interactions is None or interactions.empty:
            return Leads(skipped="Product-level leads need the customer x product purchases (interactions).")
        rows = interactions[interactions["product_id"].astype(str) == str(product_id)]
        known = catalogue is not None and not catalogue.empty
        info = catalogue.assign(product_id=catalogue["product_id"].astype(str)).set_index("product_id") if known \
            else pd.DataFrame(columns=["product_name", "category"])
        name = str(info["product_name"].get(str(product_id), product_id))
        removed = rows.assign(category=str(info["category"].get(str(product_id), "Uncategorised")))
        profile = customer_profiles(features, category, exclude=removed)
        return _cross_sell_one(profile, set(rows["customer_id"].astype(str)), name, top, seed, currency)
    if category is None or category.empty:
        return Leads(skipped="Cross-sell by category needs each customer's purchases per category.")
    spent = category[category["amount"] > 0]
    targets = [target_category] if target_category else sorted(spent["category"].astype(str).unique())
    results = []
    for target in targets:
        removed = spent[spent["category"].astype(str) == target]
        profile = customer_profiles(features, category, exclude=removed)
        buyers = set(removed["customer_id"].astype(str))
        results.append(_cross_sell_one(profile.drop(columns=[f"share:{target}"], errors="ignore"), buyers, target,
                                       top, seed, currency))
    done = [r for r in results if r.ok]
    if not done:
        return Leads(skipped=" ".join(r.skipped for r in results if r.skipped))
    note = " ".join(r.skipped for r in results if r.skipped)
    leads = pd.concat([r.leads for r in done], ignore_index=True)
    quality = {k: v for r in done for k, v in r.quality.items()}
    return Leads(leads=leads, quality=quality, note=note)


def _cross_sell_one(profile: pd.DataFrame, buyers: set[str], target: str, top: int | None, seed: int,
                    currency: str | None) -> Leads:
    bought = pd.Series(profile.index.isin(buyers).astype(int), index=profile.index)
    if min(bought.sum(), len(bought) - bought.sum()) < MIN_CLASS:
        return Leads(skipped=(f"{target}: {bought.sum()} of {len(bought)} customers bought it; leads need at least "
                              f"{MIN_CLASS} buyers and {MIN_CLASS} non-buyers to learn from."))
    x = profile
    proba, model, auc = _propensity(x, bought, seed)
    candidates = np.flatnonzero(bought.to_numpy() == 0)
    order = candidates[np.argsort(-proba[candidates], kind="stable")][: top or None]
    chosen = x.iloc[order]
    typical = x.median()
    contributions = local_contributions(model, chosen, typical)
    leads = pd.DataFrame({
        "target": target,
        "rank": np.arange(1, len(order) + 1),
        "customer_id": chosen.index,
        "score": np.round(proba[order], 4),
        "reason": [_why(chosen.iloc[i], contributions.iloc[i], typical, target, currency) for i in range(len(order))],
        "spend_per_month": chosen["spend_per_month"].round(2).to_numpy(),
        "orders_per_month": chosen["orders_per_month"].round(2).to_numpy(),
        "days_since_last_order": chosen["days_since_last_order"].to_numpy(),
    })
    return Leads(leads=leads, quality={f"{target} AUC": round(auc, 4)})


# ---------------------------------------------------------------------------------------- product launch ---
def launch_leads(features: pd.DataFrame, category: pd.DataFrame | None, interactions: pd.DataFrame,
                 catalogue: pd.DataFrame, *, launch_category: str, price_low: float | None = None,
                 price_high: float | None = None, top: int | None = 100, currency: str | None = None) -> Leads:
    """Customers most like the buyers of similar products (same category, within the price band).

    Score is the cosine similarity of a customer's standardised profile to the similar buyers' average,
    mapped to 0-1. Columns: rank, customer_id, score, bought_similar, reason.
    """
    if features is None or features.empty or "customer_id" not in features:
        return Leads(skipped="No customer ids in the sales data, so there are no customers to invite.")
    if interactions is None or interactions.empty or catalogue is None or catalogue.empty:
        return Leads(skipped="Launch leads need the customer x product purchases and the product catalogue.")
    products = catalogue.assign(product_id=catalogue["product_id"].astype(str))
    in_category = products[products["category"].astype(str).str.casefold() == launch_category.casefold()]
    similar, note = _similar_products(in_category, price_low, price_high, launch_category)
    if similar.empty:
        return Leads(skipped=f"No product in {launch_category} has sold yet, so there are no buyers to look like.")
    profile = customer_profiles(features, category)
    bought = interactions[interactions["product_id"].astype(str).isin(similar["product_id"])]
    per_customer = bought.groupby(bought["customer_id"].astype(str))["product_id"].nunique()
    buyers = profile.index.intersection(per_customer.index)
    if len(buyers) < 2 or len(profile) < 3:
        return Leads(skipped=f"Only {len(buyers)} customer(s) bought similar {launch_category} products; "
                             "lookalikes need at least 2.")
    scaled = StandardScaler().fit_transform(np.log1p(profile.clip(lower=0)))
    centroid = scaled[profile.index.get_indexer(buyers)].mean(axis=0)
    norms = np.linalg.norm(scaled, axis=1) * max(np.linalg.norm(centroid), 1e-12)
    cosine = scaled @ centroid / np.where(norms > 0, norms, 1.0)
    order = np.argsort(-cosine, kind="stable")[: top or None]
    names = dict(zip(similar["product_id"], similar["product_name"].astype(str)))
    count = per_customer.reindex(profile.index).fillna(0).astype(int)
    reasons = []
    for i in order:
        customer = profile.index[i]
        if count.iloc[i] > 0:
            owned = bought.loc[bought["customer_id"].astype(str) == customer, "product_id"].astype(str).unique()
            reasons.append(f"Already bought {count.iloc[i]} similar product(s): "
                           + ", ".join(names[p] for p in owned[:3]))
        else:
            share = profile.iloc[i].get(f"share:{in_category['category'].iloc[0]}", 0.0)
            taste = f"{share:.0%} of spend on {launch_category}; " if share > 0 else ""
            reasons.append(f"Buys like customers of similar {launch_category} products ({taste}"
                           f"spends {money(profile.iloc[i]['spend_per_month'], currency)} a month)")
    leads = pd.DataFrame({"rank": np.arange(1, len(order) + 1), "customer_id": profile.index[order],
                          "score": np.round((1 + cosine[order]) / 2, 4), "bought_similar": count.iloc[order].to_numpy(),
                          "reason": reasons})
    return Leads(leads=leads, note=note, quality={"similar_products": float(len(similar)),
                                                  "similar_buyers": float(len(buyers))})


def _similar_products(in_category: pd.DataFrame, low: float | None, high: float | None,
                      name: str) -> tuple[pd.DataFrame, str]:
    if in_category.empty or (low is None and high is None) or "avg_price" not in in_category:
        return in_category, f"Similar products: all {len(in_category)} in {name}."
    price = pd.to_numeric(in_category["avg_price"], errors="coerce")
    band = in_category[price.between(low if low is not None else -np.inf, high if high is not None else np.inf)]
    if band.empty:
        return in_category, f"No {name} product sells in that price band, so all {len(in_category)} were used."
    return band, f"Similar products: {len(band)} in {name} within the price band."


# ---------------------------------------------------------------------------------------------- prospects ---
_TRUE = {"1", "true", "yes", "y", "t", "converted", "won"}


def _converted(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values.astype(int)
    return values.astype(str).str.strip().str.casefold().isin(_TRUE).astype(int)


def prospect_leads(prospects: pd.DataFrame | None, *, top: int | None = None, seed: int = 0) -> Leads:
    """Unconverted prospects ranked by predicted chance to convert, from a classifier on converted vs not.

    Attributes used: numeric columns, low-cardinality text columns (region, source, ...) and the lead's
    age from ``created_date``. Two models (logistic regression, gradient boosting) are compared by
    cross-validated ROC AUC; the better one scores. Columns: rank, prospect_id, score, reason.
    """
    if prospects is None or prospects.empty or "prospect_id" not in prospects or "converted" not in prospects:
        return Leads(skipped="No prospects with a converted column to learn from; upload prospects to score them.")
    frame = prospects.reset_index(drop=True)
    y = _converted(frame["converted"])
    if len(frame) < MIN_CUSTOMERS or min(y.sum(), len(y) - y.sum()) < MIN_CLASS:
        return Leads(skipped=(f"{y.sum()} of {len(frame)} prospects converted; scoring needs at least "
                              f"{MIN_CLASS} converted and {MIN_CLASS} not converted (and {MIN_CUSTOMERS} in all)."))
    x, numeric, categorical = _prospect_matrix(frame)
    if not numeric and not categorical:
        return Leads(skipped="Prospects have no attributes (region, source, numbers) to learn from.")
    preprocess = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="(none)"),
                              OneHotEncoder(handle_unknown="ignore", min_frequency=2)), categorical),
    ])
    candidates = {
        "Logistic regression": make_pipeline(preprocess, LogisticRegression(max_iter=2000, class_weight="balanced")),
        "Gradient boosting": make_pipeline(preprocess, FunctionTransformer(_dense),
                                           HistGradientBoostingClassifier(max_iter=100, random_state=seed)),
    }
    folds = StratifiedKFold(n_splits=min(5, int(min(y.sum(), len(y) - y.sum()))), shuffle=True, random_state=seed)
    with few_threads(len(x)):
        aucs = {name: roc_auc_score(y, cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1])
                for name, model in candidates.items()}
        best = max(aucs, key=aucs.get)
        model = candidates[best].fit(x, y)
    open_ = np.flatnonzero(y.to_numpy() == 0)
    proba = model.predict_proba(x.iloc[open_])[:, 1]
    order = open_[np.argsort(-proba, kind="stable")][: top or None]
    chosen = x.iloc[order]
    reference = pd.Series({c: (x[c].median() if c in numeric else x[c].mode(dropna=True).iat[0]
                               if x[c].notna().any() else np.nan) for c in x.columns})
    contributions = local_contributions(model, chosen, reference)
    rates = {c: frame.assign(y=y).groupby(c, dropna=False)["y"].mean() for c in categorical}
    reasons = [_prospect_reason(chosen.iloc[i], contributions.iloc[i], rates, float(y.mean()), x[y == 1], numeric)
               for i in range(len(order))]
    scores = model.predict_proba(chosen)[:, 1]
    leads = pd.DataFrame({"rank": np.arange(1, len(order) + 1), "prospect_id": frame["prospect_id"].iloc[order]
                          .astype(str).to_numpy(), "score": np.round(scores, 4), "reason": reasons})
    return Leads(leads=leads, quality={f"{name} AUC": round(float(a), 4) for name, a in aucs.items()},
                 note=f"Scored with {best} (cross-validated ROC AUC {aucs[best]:.2f}).")


def _dense(matrix):
    return matrix.toarray() if hasattr(matrix, "toarray") else matrix


def _prospect_matrix(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Model inputs: numbers, few-valued text, and the lead's age in days; ids and free text left out."""
    skip = {"prospect_id", "customer_id", "converted", "created_date"}
    x = pd.DataFrame(index=frame.index)
    numeric, categorical = [], []
    if "created_date" in frame:
        created = pd.to_datetime(frame["created_date"], errors="coerce")
        if created.notna().any():
            x["age_days"] = (created.max() - created).dt.days.astype(float)
            numeric.append("age_days")
    for column in frame.columns:
        if column in skip:
            continue
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            x[column] = values.astype(float)
            numeric.append(column)
        elif 1 < values.nunique(dropna=True) <= min(MAX_LEVELS, max(2, len(frame) // 2)):
            x[column] = values.astype("string").astype(object).where(values.notna(), np.nan)
            categorical.append(column)
    return x, numeric, categorical


def _prospect_reason(row: pd.Series, contribution: pd.Series, rates: dict[str, pd.Series], overall: float,
                     converted: pd.DataFrame, numeric: list[str]) -> str:
    words = []
    for name, value in contribution.sort_values(ascending=False).items():
        if value <= 0.01 or len(words) == 2:
            break
        if name in rates:
            rate = rates[name].get(row[name], np.nan)
            if pd.notna(rate):
                words.append(f"{name} is {row[name]} ({rate:.0%} of these converted vs {overall:.0%} overall)")
        elif name == "age_days":
            words.append(f"lead is {row[name]:.0f} days old")
        elif name in numeric and pd.notna(row[name]):
            words.append(f"{name} is {row[name]:,.4g} (converted leads: typically {converted[name].median():,.4g})")
    text = "; ".join(words)
    return text[:1].upper() + text[1:] if text else "Similar to prospects who converted"
