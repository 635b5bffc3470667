"""What the tenant's data holds (one row of ``data_profile.sql``): enough to decide which steps apply."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Facts:
    sales_rows: int = 0
    first_ts: pd.Timestamp | None = None
    last_ts: pd.Timestamp | None = None
    customers: int = 0
    products: int = 0
    categories: int = 0
    orders: int = 0
    traffic_days: int = 0
    prospects: int = 0
    currency: str | None = None  # the sales' one currency; None when unknown or several are mixed

    @property
    def days(self) -> int:
        """Calendar days from the first sale to the last, both counted."""
        if self.first_ts is None or self.last_ts is None:
            return 0
        return (self.last_ts.normalize() - self.first_ts.normalize()).days + 1

    @classmethod
    def from_profile(cls, profile: pd.DataFrame) -> Facts:
        if profile is None or profile.empty:
            return cls()
        row = profile.iloc[0]
        count = lambda name: int(row[name]) if name in row and pd.notna(row[name]) else 0  # noqa: E731
        when = lambda name: pd.Timestamp(row[name]) if name in row and pd.notna(row[name]) else None  # noqa: E731
        return cls(sales_rows=count("sales_rows"), first_ts=when("first_ts"), last_ts=when("last_ts"),
                   customers=count("customers"), products=count("products"), categories=count("categories"),
                   orders=count("orders"), traffic_days=count("traffic_days"), prospects=count("prospects"),
                   currency=str(row["currency"]) if count("currencies") == 1 else None)
