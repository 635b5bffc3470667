"""The auto-dealer variant of the sample data: make as category, model as product, each car's VIN as an extra
column, dealer as channel; quantity 1 and car prices, closed on Sundays. It shares the retail sample's world
(customers, regions, trend and seasonality) so the same seed gives the same customers."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from chalicelib.samples.generator import REGIONS, id_strings, intensity, pick_customers, plan_chunks, world

_MAKES = {
    "Toyota": (("Corolla", 24000), ("RAV4", 36000), ("Yaris", 19000), ("Camry", 33000)),
    "Volkswagen": (("Golf", 28000), ("Polo", 20000), ("Tiguan", 38000), ("ID.4", 45000)),
    "BMW": (("3 Series", 46000), ("X3", 55000), ("1 Series", 34000), ("i4", 60000)),
    "Ford": (("Fiesta", 18000), ("Focus", 24000), ("Kuga", 33000), ("Mustang Mach-E", 52000)),
    "Skoda": (("Octavia", 27000), ("Fabia", 18500), ("Kodiaq", 39000), ("Enyaq", 44000)),
}
_DEALERS = {"North": ("Nordstadt Autohaus", "Harbour Motors"), "South": ("Alpine Cars", "Sunvale Motors"),
            "East": ("Riverside Auto", "Eastgate Cars"), "West": ("Westfield Motors", "Coastline Auto")}
_VIN_CHARS = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ0123456789"))


def dealer(seed: int = 7, customers: int = 3000, start: str = "2024-01-01", days: int = 730,
           target_rows: int | None = None, chunk_rows: int = 500_000) -> Iterator[pd.DataFrame]:
    """Yield a car dealer group's sales: make as category, model as product (a model code and its name), each car's
    VIN as an extra column, dealer as channel, quantity 1 and car prices; closed on Sundays; a few customers
    come back for a second car."""
    w = world(seed, customers, 10, start, days)
    models = [(make, model, price) for make, items in _MAKES.items() for model, price in items]
    dealer_names = [name for region in REGIONS for name in _DEALERS[region]]
    scale, per_chunk = plan_chunks(8.0 * 1.5, target_rows, 8.0 * float(intensity(w).sum()) * 6 / 7, chunk_rows)
    per_day, next_order = 8.0 * scale, 1
    weekly = np.where(pd.date_range(start, periods=days).day_of_week == 6, 0.0, 1.0)  # closed on Sundays
    lam_all = per_day * intensity(w) * weekly
    customer_cdf = np.cumsum(np.ones(customers)) / customers
    popularity = np.random.default_rng([seed, 2]).pareto(1.5, len(models)) + 0.2
    model_cdf = np.cumsum(popularity) / popularity.sum()
    for i, first in enumerate(range(0, days, per_chunk)):
        rng = np.random.default_rng([seed, 3, i])
        day_idx = np.arange(first, min(first + per_chunk, days))
        sale_day = np.repeat(day_idx, rng.poisson(lam_all[day_idx]))
        n = sale_day.size
        customer = pick_customers(rng, w, sale_day, customer_cdf)
        m = np.searchsorted(model_cdf, rng.random(n))
        region = w.customer_region[customer]
        dealer_code = region * 2 + rng.integers(0, 2, n)
        price = np.round(np.array([p for _, _, p in models])[m] * rng.uniform(0.92, 1.12, n), -1)
        ts = (w.start + sale_day.astype("timedelta64[D]")).astype("datetime64[s]") + rng.integers(
            9 * 3600, 18 * 3600, n).astype("timedelta64[s]")
        vin = pd.array(_VIN_CHARS[rng.integers(0, _VIN_CHARS.size, (n, 17))].view("<U17").ravel(),
                       dtype=pd.StringDtype("pyarrow"))
        order_no = next_order + np.arange(n)
        next_order += n
        yield pd.DataFrame({
            "ts": pd.to_datetime(ts).as_unit("us"),
            "order_id": pd.array(id_strings("S", order_no, 9), dtype=pd.StringDtype("pyarrow")),
            "customer_id": pd.Categorical.from_codes(customer, categories=list(w.customer_ids)),
            "product_id": pd.Categorical.from_codes(m, categories=[_model_code(a, b) for a, b, _ in models]),
            "product_name": pd.Categorical.from_codes(m, categories=[f"{a} {b}" for a, b, _ in models]),
            "category": pd.Categorical.from_codes(m // 4, categories=list(_MAKES)),
            "quantity": np.ones(n, dtype=np.int64),
            "unit_price": price,
            "amount": price,
            "region": pd.Categorical.from_codes(region, categories=list(REGIONS)),
            "channel": pd.Categorical.from_codes(dealer_code, categories=dealer_names),
            "currency": pd.Categorical.from_codes(np.zeros(n, int), categories=["EUR"]),
            "is_return": np.zeros(n, bool),
            "vin": vin,
        }).sort_values("ts", kind="stable", ignore_index=True)


def _model_code(make: str, model: str) -> str:
    """``Volkswagen``, ``ID.4`` → ``VOL-ID4``."""
    return f"{make[:3].upper()}-{''.join(ch for ch in model.upper() if ch.isalnum())}"
