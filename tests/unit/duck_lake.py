"""An in-memory lake for compiler tests: the datasets as DuckDB tables, queried as both engines would.

``query`` runs the DuckDB form the way :class:`DuckDBEngine` does (scoped, parameters bound). ``query_athena``
compiles for Athena, binds the execution parameters, reads the result back into DuckDB's dialect and runs it
over a ``saleslens_prod`` schema whose tables hold two tenants' rows, so an unpinned table would show.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import sqlglot

from chalicelib.auth.permissions import TenantContext
from chalicelib.ingest.schema import TABLES
from chalicelib.lake.batches import canonical_schema, conform, to_arrow, with_extras
from chalicelib.query.aggregates import sql as aggregate_sql
from chalicelib.query.athena_engine import AthenaEngine
from chalicelib.query.engine import scope

ACME = TenantContext("acme", "u1", "analyst")
ATHENA = AthenaEngine("saleslens_prod", "saleslens-prod")


class DuckLake:
    def __init__(self, frames: dict[str, pd.DataFrame], other_tenant: dict[str, pd.DataFrame] | None = None) -> None:
        self.db = duckdb.connect()
        self.db.execute("CREATE SCHEMA saleslens_prod")
        for dataset in TABLES:
            self._create(dataset, frames.get(dataset))
        batches = self.db.execute("SELECT DISTINCT batch_id FROM transactions").fetchall()
        for (batch_id,) in batches:
            rollup = self.query(aggregate_sql("sales_daily"), {"batch": batch_id}).assign(batch_id=batch_id)
            self.db.register("rollup_batch", to_arrow(rollup))
            self.db.execute("INSERT INTO sales_daily SELECT * FROM rollup_batch")
            self.db.unregister("rollup_batch")
        for dataset in TABLES:
            self.db.execute(f"CREATE TABLE saleslens_prod.{dataset} AS SELECT *, 'acme' AS tenant_id FROM {dataset}")
        for dataset, frame in (other_tenant or {}).items():
            table = conform(to_arrow(frame), canonical_schema(dataset))
            self.db.register("foreign_rows", table)
            self.db.execute(f"INSERT INTO saleslens_prod.{dataset} SELECT *, 'globex' FROM foreign_rows")
            self.db.unregister("foreign_rows")

    def _create(self, dataset: str, frame: pd.DataFrame | None) -> None:
        schema = canonical_schema(dataset)
        table = schema.empty_table()
        if frame is not None:
            table = with_extras(to_arrow(frame), dataset)
            table = conform(table.select([n for n in table.column_names if n in schema.names]), schema)
        self.db.register("incoming", table)
        self.db.execute(f"CREATE TABLE {dataset} AS SELECT * FROM incoming")
        self.db.unregister("incoming")

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        scoped = scope(sql)
        values = scoped.bind(params)
        return self.db.execute(scoped.tree.sql(dialect="duckdb"), values).df()

    def engine(self) -> Any:
        """This lake as a QueryEngine (the tenant is the lake's one tenant)."""
        lake = self

        class Engine:
            def query(self, ctx: TenantContext, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
                assert ctx.tenant_id == ACME.tenant_id
                return lake.query(sql, params)

        return Engine()

    def query_athena(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        text, execution = ATHENA.compile(ACME, sql, params)
        values = iter(execution)
        bound = re.sub(r"\?", lambda _: next(values), text)
        return self.db.execute(sqlglot.transpile(bound, read="athena", write="duckdb")[0]).df()


def planted_sales(seed: int = 5, days: int = 760) -> pd.DataFrame:
    """Two years of order lines over three categories, two regions and channels, with returns and a spike on
    each Black Friday (29 Nov 2024, 28 Nov 2025), in two batches."""
    rng = np.random.default_rng(seed)
    products = {"Tents": ["Tent Pro", "Tent Lite", "Pretend Tent"], "Bikes": ["Road Bike", "City Bike"],
                "Food": ["Energy Bar", "Gel"]}
    catalogue = [(category, name) for category, names in products.items() for name in names]
    lines = []
    order = 0
    for day in pd.date_range("2024-01-01", periods=days, freq="D"):
        spike = 40 if day.date() in (date(2024, 11, 29), date(2025, 11, 28)) else 0
        for _ in range(int(rng.integers(1, 5)) + spike):
            order += 1
            customer = f"C{int(rng.integers(0, 60)):03d}"
            region, channel = ("North", "South")[int(rng.integers(0, 2))], ("online", "store")[int(rng.integers(0, 2))]
            for _line in range(int(rng.integers(1, 3))):
                category, name = catalogue[int(rng.integers(0, len(catalogue)))]
                quantity = float(rng.integers(1, 4)) * (-1 if rng.random() < 0.05 else 1)
                lines.append((f"O{order}", day + pd.Timedelta(hours=int(rng.integers(8, 20))), customer, name,
                              category, quantity, round(quantity * float(rng.uniform(5, 200)), 2), region, channel))
    frame = pd.DataFrame(lines, columns=["order_id", "ts", "customer_id", "product_name", "category", "quantity",
                                         "amount", "region", "channel"])
    frame["is_return"] = frame["quantity"] < 0
    frame["currency"] = "EUR"
    frame["batch_id"] = np.where(frame.index < len(frame) // 2, "b1", "b2")
    return frame


