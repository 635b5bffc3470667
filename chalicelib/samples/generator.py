"""Sample sales with planted structure, so demos have something to show and tests can check what analytics recover.

Everything is deterministic for a seed. The "world" (catalogue, customers, groups, planted facts) depends only on
the seed and the world's size; the transactions are drawn in day blocks, each from its own seeded generator, so
any row count up to tens of millions streams in chunks with bounded memory.

Planted structure (see :func:`truth`): weekly and yearly seasonality and a growth trend; category promotions
(revenue spikes) and outages (drops) on known dates; four customer groups with distinct category tastes and
spending; product pairs usually bought in the same order; churners who stop buying after a known date; returns.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

CATEGORIES = ("Bikes", "Apparel", "Accessories", "Nutrition", "Camping")
REGIONS = ("North", "South", "East", "West")
REGION_SHARE = np.array([0.3, 0.25, 0.25, 0.2])
CHANNELS = ("online", "store")
COLUMNS = ("ts", "order_id", "customer_id", "product_id", "product_name", "category", "quantity", "unit_price",
           "amount", "region", "channel", "currency", "is_return")

# name stems and (low, high) list prices per category
_CATALOGUE = {
    "Bikes": (("Road Bike", "Gravel Bike", "City Bike", "E-Bike", "Mountain Bike", "Kids Bike", "Folding Bike",
               "Touring Bike"), (250.0, 1500.0)),
    "Apparel": (("Jersey", "Bib Shorts", "Rain Jacket", "Gloves", "Base Layer", "Socks", "Cap", "Fleece"),
                (15.0, 180.0)),
    "Accessories": (("Helmet", "Bottle", "Front Light", "Lock", "Pump", "Saddle Bag", "Bike Computer", "Mudguards"),
                    (10.0, 150.0)),
    "Nutrition": (("Energy Bar", "Energy Gel", "Drink Mix", "Recovery Shake", "Electrolyte Tabs", "Protein Bar",
                   "Trail Mix", "Caffeine Gel"), (2.0, 35.0)),
    "Camping": (("Tent", "Sleeping Bag", "Camping Stove", "Sleeping Mat", "Headlamp", "Backpack", "Camp Chair",
                 "Water Filter"), (20.0, 450.0)),
}
_VARIANTS = ("Pro", "Sport", "Lite", "Max", "Classic", "Trail", "Urban", "Elite", "Tour", "Aero", "Flex", "Core")

# The four customer groups: category taste (in CATEGORIES order), price appetite (weight exponent on price),
# relative purchase frequency, mean extra lines per order, share of online orders.
GROUPS = {
    "Enthusiasts": dict(taste=(0.20, 0.20, 0.35, 0.20, 0.05), price_appetite=0.8, frequency=1.2, lines=0.9,
                        online=0.5),
    "Outdoor": dict(taste=(0.05, 0.25, 0.10, 0.10, 0.50), price_appetite=0.4, frequency=1.0, lines=0.6, online=0.3),
    "Athletes": dict(taste=(0.03, 0.20, 0.15, 0.60, 0.02), price_appetite=-0.5, frequency=2.5, lines=0.8,
                     online=0.75),
    "Casual": dict(taste=(0.10, 0.25, 0.25, 0.20, 0.20), price_appetite=-1.0, frequency=0.6, lines=0.2, online=0.4),
}
WEEKLY = np.array([0.85, 0.9, 0.95, 1.0, 1.15, 1.4, 0.75])  # Monday .. Sunday
PAIR_PROBABILITY = 0.7
RETURN_RATE = {"Bikes": 0.02, "Apparel": 0.08, "Accessories": 0.03, "Nutrition": 0.005, "Camping": 0.04}


@dataclass(frozen=True)
class PlantedAnomaly:
    """A day whose revenue was pushed far from normal on purpose."""

    date: date
    direction: str  # "up" or "down"
    dimension: str | None  # "category" for a promotion; None for an outage that hits everything
    value: str | None
    factor: float  # expected revenue that day as a multiple of a normal day
    reason: str


@dataclass(frozen=True)
class SampleTruth:
    """The facts planted in a sample, for tests and demos to check what analytics recover."""

    start: date
    end: date  # last day with sales (inclusive)
    anomalies: tuple[PlantedAnomaly, ...]
    customer_group: dict[str, str]
    groups: dict[str, tuple[str, ...]]  # group -> its two favourite categories
    group_spend_rank: tuple[str, ...]  # groups from the highest to the lowest revenue per customer
    product_pairs: tuple[tuple[str, str], ...]  # (product_id, product_id) usually bought together
    churners: frozenset[str]
    churn_date: date  # churners buy nothing after this day
    weekly_pattern: tuple[float, ...]  # Monday .. Sunday order multipliers
    yearly_growth: float


@dataclass(frozen=True)
class World:
    start: np.datetime64
    days: int
    product_ids: np.ndarray
    product_names: np.ndarray
    product_category: np.ndarray  # category index per product
    price: np.ndarray
    popularity: np.ndarray
    customer_ids: np.ndarray
    customer_group: np.ndarray
    customer_region: np.ndarray
    customer_weight: np.ndarray
    signup_day: np.ndarray
    churner: np.ndarray
    churn_day: int
    pair_partner: np.ndarray  # product -> partner product or -1
    pairs: tuple[tuple[int, int], ...]
    anomalies: tuple[tuple[int, str, int, float], ...]  # (day, direction, category or -1, factor)


def world(seed: int, customers: int, products: int, start: str, days: int) -> World:
    if products < 2 * len(CATEGORIES) or customers < 20 or days < 28:
        raise ValueError("A sample needs at least 10 products, 20 customers and 28 days")
    rng = np.random.default_rng([seed, 0])
    n_cat = len(CATEGORIES)
    category = np.arange(products) % n_cat
    names, prices = [], []
    for p, c in enumerate(category):
        stems, (low, high) = _CATALOGUE[CATEGORIES[c]]
        rank = p // n_cat
        names.append(f"{stems[rank % len(stems)]} {_VARIANTS[(rank // len(stems) + p) % len(_VARIANTS)]}"
                     + (f" {rank // len(stems) + 1}" if rank >= len(stems) else ""))
        prices.append(np.round(np.exp(rng.uniform(np.log(low), np.log(high)))) - 0.01)
    popularity = rng.lognormal(0.0, 0.9, products)  # a few best sellers carry most of the revenue
    group = rng.permutation(np.arange(customers) % len(GROUPS))
    freq = np.array([g["frequency"] for g in GROUPS.values()])[group]
    weight = freq * rng.lognormal(0.0, 0.5, customers)
    signup = np.where(rng.random(customers) < 0.4, 0, rng.integers(0, int(days * 0.85), customers))
    churn_day = int(days * 0.65)
    eligible = np.flatnonzero(signup < churn_day - 120)
    churner = np.zeros(customers, bool)
    churner[rng.choice(eligible, size=max(2, customers // 10), replace=False)] = True
    # pairs: the best seller of one category with one of another (bike+helmet, tent+sleeping bag, ...)
    by_cat = [np.flatnonzero(category == c) for c in range(n_cat)]
    plan = ((0, 2), (4, 4), (3, 2), (1, 1))
    partner = np.full(products, -1)
    pairs = []
    for a_cat, b_cat in plan:
        a = by_cat[a_cat][0]
        b = by_cat[b_cat][1]
        partner[a] = b
        pairs.append((int(a), int(b)))
        popularity[a] = max(popularity[a], np.quantile(popularity, 0.8))
    # anomalies on spread-out days away from the edges: four promotions and two outages
    slots = np.linspace(45, days - 30, 7).astype(int)[:-1] + rng.integers(-10, 10, 6)
    kinds = rng.permutation(["up", "up", "up", "up", "down", "down"])
    promo_categories = rng.permutation(n_cat)
    anomalies, k = [], 0
    for day, kind in zip(slots, kinds, strict=True):
        if kind == "up":
            anomalies.append((int(day), "up", int(promo_categories[k % n_cat]), 4.0))
            k += 1
        else:
            anomalies.append((int(day), "down", -1, 0.1))
    return World(
        start=np.datetime64(pd.Timestamp(start).date(), "D"), days=days,
        product_ids=np.array([f"P{p + 1:04d}" for p in range(products)]), product_names=np.array(names),
        product_category=category, price=np.array(prices), popularity=popularity,
        customer_ids=np.array([f"C{c + 1:06d}" for c in range(customers)]), customer_group=group,
        customer_region=rng.choice(len(REGIONS), size=customers, p=REGION_SHARE), customer_weight=weight,
        signup_day=signup, churner=churner, churn_day=churn_day, pair_partner=partner, pairs=tuple(pairs),
        anomalies=tuple(anomalies))


def intensity(world: World, yearly_growth: float = 0.25) -> np.ndarray:
    """Relative orders per day: trend x weekly x yearly (summer peak, a few weeks of Christmas shopping)."""
    days = world.start + np.arange(world.days)
    t = np.arange(world.days) / 365.25
    dow = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    yearly = 1 + 0.3 * np.cos(2 * np.pi * (doy - 160) / 365.25) + 0.3 * np.exp(-0.5 * ((doy - 345) / 14) ** 2)
    return (1 + yearly_growth * t) * WEEKLY[dow] * yearly


def truth(seed: int = 7, customers: int = 500, products: int = 50, start: str = "2024-01-01",
          days: int = 730) -> SampleTruth:
    """The planted facts of ``retail(seed, customers, products, start, days)`` (any ``target_rows``)."""
    w = world(seed, customers, products, start, days)
    day = lambda d: (w.start + np.timedelta64(d, "D")).astype(object)  # noqa: E731
    anomalies = tuple(
        PlantedAnomaly(day(d), kind, "category" if c >= 0 else None, CATEGORIES[c] if c >= 0 else None, f,
                       f"{CATEGORIES[c]} promotion" if c >= 0 else "outage: shop and website down most of the day")
        for d, kind, c, f in w.anomalies)
    names = list(GROUPS)
    spend = sorted(names, key=lambda g: -GROUPS[g]["frequency"] * _group_order_value(w, names.index(g)))
    return SampleTruth(
        start=day(0), end=day(days - 1), anomalies=anomalies,
        customer_group={cid: names[g] for cid, g in zip(w.customer_ids, w.customer_group, strict=True)},
        groups={g: tuple(CATEGORIES[i] for i in np.argsort(GROUPS[g]["taste"])[::-1][:2]) for g in names},
        group_spend_rank=tuple(spend),
        product_pairs=tuple((str(w.product_ids[a]), str(w.product_ids[b])) for a, b in w.pairs),
        churners=frozenset(w.customer_ids[w.churner].tolist()), churn_date=day(w.churn_day),
        weekly_pattern=tuple(WEEKLY.tolist()), yearly_growth=0.25)


def _product_cdfs(w: World) -> np.ndarray:
    """Per group and category, the cumulative choice probabilities over that category's products."""
    n_cat, n_groups = len(CATEGORIES), len(GROUPS)
    per_cat = max(np.bincount(w.product_category, minlength=n_cat))
    cdf = np.ones((n_groups, n_cat, per_cat))
    for g, spec in enumerate(GROUPS.values()):
        for c in range(n_cat):
            idx = np.flatnonzero(w.product_category == c)
            p = w.popularity[idx] * w.price[idx] ** spec["price_appetite"]
            cdf[g, c, : len(idx)] = np.cumsum(p) / p.sum()
    return cdf


def _line_value(w: World, g: int, c: int) -> float:
    """Expected revenue of one order line of category ``c`` bought by group ``g``."""
    idx = np.flatnonzero(w.product_category == c)
    p = w.popularity[idx] * w.price[idx] ** list(GROUPS.values())[g]["price_appetite"]
    return float(np.sum(p * w.price[idx]) / p.sum()) * _mean_quantity(c)


def _group_order_value(w: World, g: int) -> float:
    """Expected revenue of one order of group ``g`` (before pairs), to size promotions and rank spending."""
    spec = list(GROUPS.values())[g]
    return sum(share * _line_value(w, g, c) for c, share in enumerate(spec["taste"])) * (1 + spec["lines"])


def _mean_quantity(c: int) -> float:
    return {"Nutrition": 2.5, "Apparel": 1.3}.get(CATEGORIES[c], 1.0)


def pick_customers(rng: np.random.Generator, w: World, day: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Draw a customer per order by weight, redrawing those not yet signed up or already churned."""
    out = np.searchsorted(cdf, rng.random(day.size))
    todo = np.arange(day.size)
    for _ in range(40):
        c, d = out[todo], day[todo]
        ramp = np.clip((w.churn_day - d) / 90, 0.3, 1.0)  # churners buy less in their last three months
        accept = (w.signup_day[c] <= d) & ~(w.churner[c] & ((d > w.churn_day) | (rng.random(c.size) > ramp)))
        todo = todo[~accept]
        if not todo.size:
            break
        out[todo] = np.searchsorted(cdf, rng.random(todo.size))
    founders = np.flatnonzero((w.signup_day == 0) & ~w.churner)
    out[todo] = rng.choice(founders, todo.size)
    return out


def _draw(rng: np.random.Generator, cdfs: np.ndarray, row: np.ndarray) -> np.ndarray:
    """One draw per element from the discrete distribution whose CDF is ``cdfs[row]``, in a single search.

    Row ``r``'s CDF is shifted by ``r`` and laid end to end, so ``r + u`` falls inside row ``r``'s own stretch.
    """
    k = cdfs.shape[1]
    flat = (cdfs / cdfs[:, -1:] + np.arange(len(cdfs))[:, None]).ravel()
    return np.searchsorted(flat, row + rng.random(row.size), side="right") - row * k


def id_strings(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids like O00012345, built in Arrow because Python string formatting is too slow at 10M rows."""
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _retail_chunk(w: World, rng: np.random.Generator, first_day: int, n_days: int, per_day: float,
                  first_order: int) -> tuple[pd.DataFrame, int]:
    lam = per_day * intensity(w)[first_day:first_day + n_days]
    days = np.arange(first_day, first_day + n_days)
    outage = {d: f for d, kind, _, f in w.anomalies if kind == "down"}
    promo = {d: (c, f) for d, kind, c, f in w.anomalies if kind == "up"}
    lam = lam * np.array([outage.get(int(d), 1.0) for d in days])
    n_orders = rng.poisson(lam)
    order_day = np.repeat(days, n_orders)
    order_cat = np.full(order_day.size, -1)
    share = np.bincount(w.customer_group, weights=w.customer_weight, minlength=len(GROUPS))
    typical = float(np.dot(share / share.sum(), [_group_order_value(w, g) for g in range(len(GROUPS))]))
    for d, (c, f) in promo.items():  # promotion: extra orders of one category worth (f - 1) normal days
        if first_day <= d < first_day + n_days:
            unit = 0.8 * np.dot(share / share.sum(), [_line_value(w, g, c) for g in range(len(GROUPS))])
            extra = rng.poisson((f - 1) * lam[d - first_day] * typical / unit)
            order_day = np.concatenate([order_day, np.full(extra, d)])
            order_cat = np.concatenate([order_cat, np.full(extra, c)])
    n = order_day.size
    weights = np.cumsum(w.customer_weight) / w.customer_weight.sum()
    customer = pick_customers(rng, w, order_day, weights)
    group = w.customer_group[customer]
    lines_mean = np.array([g["lines"] for g in GROUPS.values()])
    n_lines = 1 + np.minimum(rng.poisson(lines_mean[group]), 5)
    n_lines[order_cat >= 0] = 1
    order_of_line = np.repeat(np.arange(n), n_lines)
    line_group = group[order_of_line]
    n_cat = len(CATEGORIES)
    taste = np.cumsum(np.array([g["taste"] for g in GROUPS.values()]), axis=1)
    cat = _draw(rng, taste, line_group).clip(0, n_cat - 1)
    cat = np.where(order_cat[order_of_line] >= 0, order_cat[order_of_line], cat)
    cdf = _product_cdfs(w)
    within = _draw(rng, cdf.reshape(-1, cdf.shape[-1]), line_group * n_cat + cat)
    by_cat = np.full((n_cat, cdf.shape[-1]), -1)
    for c in range(n_cat):
        idx = np.flatnonzero(w.product_category == c)
        by_cat[c, : idx.size], by_cat[c, idx.size:] = idx, idx[-1]
    product = by_cat[cat, np.minimum(within, cdf.shape[-1] - 1)]
    partner = w.pair_partner[product]
    add = (partner >= 0) & (rng.random(product.size) < PAIR_PROBABILITY)
    order_of_line = np.concatenate([order_of_line, order_of_line[add]])
    product = np.concatenate([product, partner[add]])
    key = np.sort(order_of_line * len(w.product_ids) + product)
    key = key[np.r_[True, key[1:] != key[:-1]]]  # one line per product per order
    order_of_line, product = key // len(w.product_ids), key % len(w.product_ids)
    line_cat = w.product_category[product]
    qty = np.where(np.isin(line_cat, [CATEGORIES.index("Nutrition")]), 1 + rng.poisson(1.5, product.size),
                   np.where(line_cat == CATEGORIES.index("Apparel"), 1 + rng.poisson(0.3, product.size), 1))
    promo_day = np.isin(order_day[order_of_line], list(promo)) & (order_cat[order_of_line] >= 0)
    price = np.round(w.price[product] * np.where(promo_day, 0.8, 1.0), 2)
    online = rng.random(n) < np.array([g["online"] for g in GROUPS.values()])[group]
    hour = np.where(online, rng.uniform(0, 24, n), rng.uniform(9, 19, n))
    order_ts = (w.start + order_day.astype("timedelta64[D]")).astype("datetime64[s]") + (hour * 3600).astype(
        "timedelta64[s]")
    ts = order_ts[order_of_line]
    order_no = first_order + order_of_line
    # returns: a later credit line with negative quantity, dropped if it would fall after the sample ends
    rate = np.array([RETURN_RATE[c] for c in CATEGORIES])[line_cat]
    ret = np.flatnonzero(rng.random(product.size) < rate)
    ret_ts = ts[ret] + rng.integers(2, 30, ret.size) * np.timedelta64(1, "D")
    keep = ret_ts < (w.start + np.timedelta64(w.days, "D"))
    ret, ret_ts = ret[keep], ret_ts[keep]
    rows = np.concatenate([np.arange(product.size), ret])
    is_return = np.concatenate([np.zeros(product.size, bool), np.ones(ret.size, bool)])
    sign = np.where(is_return, -1, 1)
    quantity = qty[rows] * sign
    order_ids = pa.concat_arrays([id_strings("O", order_no, 8), id_strings("R", order_no[ret], 8)])
    frame = _frame(
        ts=np.concatenate([ts, ret_ts]), order_id=order_ids, customer=customer[order_of_line][rows],
        product=product[rows], quantity=quantity, unit_price=price[rows], channel=(~online[order_of_line][rows]),
        is_return=is_return, w=w)
    return frame.sort_values("ts", kind="stable", ignore_index=True), n


def _frame(ts, order_id, customer, product, quantity, unit_price, channel, is_return, w: World) -> pd.DataFrame:
    cat = lambda codes, names: pd.Categorical.from_codes(codes, categories=list(names))  # noqa: E731
    return pd.DataFrame({
        "ts": pd.to_datetime(ts.astype("datetime64[s]")).as_unit("us"),
        "order_id": pd.array(order_id, dtype=pd.StringDtype("pyarrow")),
        "customer_id": cat(customer, w.customer_ids),
        "product_id": cat(product, w.product_ids),
        "product_name": cat(product, w.product_names) if len(set(w.product_names)) == len(w.product_names)
        else w.product_names[product],
        "category": cat(w.product_category[product], CATEGORIES),
        "quantity": quantity.astype(np.int64),
        "unit_price": unit_price,
        "amount": np.round(quantity * unit_price, 2),
        "region": cat(w.customer_region[customer], REGIONS),
        "channel": cat(channel.astype(int), CHANNELS),
        "currency": cat(np.zeros(len(ts), int), ["EUR"]),
        "is_return": is_return,
    })


def plan_chunks(rows_per_day: float, target_rows: int | None, base_rows: float, chunk_rows: int) -> tuple[float, int]:
    """How much to scale the daily volume, and how many days go in one chunk."""
    scale = 1.0 if target_rows is None else target_rows / base_rows
    return scale, max(1, int(chunk_rows / max(rows_per_day * scale, 1e-9)))


def retail(seed: int = 7, customers: int = 500, products: int = 50, start: str = "2024-01-01", days: int = 730,
           target_rows: int | None = None, chunk_rows: int = 500_000) -> Iterator[pd.DataFrame]:
    """Yield a bike and outdoor shop's order lines (canonical columns) in chunks of about ``chunk_rows`` rows.

    By default about 65 000 lines over two years; ``target_rows`` scales the daily volume to about that many
    rows. Chunks cover consecutive day blocks and are sorted by ``ts`` within themselves (a return can land in a
    later chunk's dates).
    """
    w = world(seed, customers, products, start, days)
    orders_per_day = 36.0
    lines_per_order = 1.93  # measured average including pairs, promotions and returns
    base_rows = orders_per_day * float(intensity(w).sum()) * lines_per_order
    scale, per_chunk = plan_chunks(orders_per_day * lines_per_order * 1.3, target_rows, base_rows, chunk_rows)
    next_order, next_row = 1, 0
    for i, first in enumerate(range(0, days, per_chunk)):
        rng = np.random.default_rng([seed, 1, i])
        chunk, n_orders = _retail_chunk(w, rng, first, min(per_chunk, days - first), orders_per_day * scale,
                                        next_order)
        chunk.index += next_row  # chunks concatenate into one clean RangeIndex
        next_order, next_row = next_order + n_orders, next_row + len(chunk)
        yield chunk
