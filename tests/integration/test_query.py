"""DuckDB over the lake: each tenant sees its own committed rows, and SQL cannot reach anything else."""
from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from chalicelib import aws
from chalicelib.auth.permissions import TenantContext
from chalicelib.config import get_settings
from chalicelib.lake.batches import BatchWriter, canonical_schema
from chalicelib.query import engine_for
from chalicelib.query.duckdb_engine import DuckDBEngine

ACME = TenantContext("acme", "u1", "analyst")
GLOBEX = TenantContext("globex", "u2", "analyst")


def _write(ctx: TenantContext, dataset: str, frame: pd.DataFrame, batch_id: str, commit: bool = True) -> None:
    s = get_settings()
    with BatchWriter(aws.client("s3"), s.data_bucket, s.kms_key_id, ctx, dataset, batch_id, rows_per_part=4) as w:
        w.write(frame)
        if commit:
            w.commit({"source": "test"})


def _sales(n: int, amount: float, customers: tuple[str, ...] = ("c1", "c2")) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)],
        "ts": pd.date_range("2024-01-01", periods=n, freq="D"),  # a Monday: 7 days per ISO week
        "customer_id": [customers[i % len(customers)] for i in range(n)],
        "product_id": ["p1"] * n,
        "amount": [amount] * n,
    })


@pytest.fixture
def lake(lake_env: dict[str, str]) -> DuckDBEngine:
    _write(ACME, "transactions", _sales(10, 2.0), "a1")
    _write(GLOBEX, "transactions", _sales(3, 100.0), "g1")
    engine = engine_for(get_settings())
    assert isinstance(engine, DuckDBEngine)
    return engine


def test_each_tenant_sees_only_its_own_rows(lake: DuckDBEngine) -> None:
    sql = "SELECT count(*) AS n, sum(amount) AS total FROM transactions"
    assert lake.query(ACME, sql).to_dict("records") == [{"n": 10, "total": 20.0}]
    assert lake.query(GLOBEX, sql).to_dict("records") == [{"n": 3, "total": 300.0}]
    nobody = TenantContext("initech", "u3", "owner")
    assert lake.query(nobody, sql)["n"].tolist() == [0]


def test_parts_without_a_manifest_are_invisible(lake: DuckDBEngine) -> None:
    s = get_settings()
    with BatchWriter(aws.client("s3"), s.data_bucket, s.kms_key_id, ACME, "transactions", "pending",
                     rows_per_part=2) as writer:
        writer.write(_sales(6, 1000.0))
        assert len(writer.parts) == 3  # on S3 already
        assert lake.query(ACME, "SELECT count(*) AS n FROM transactions")["n"].tolist() == [10]
        writer.commit()
    assert lake.query(ACME, "SELECT count(*) AS n FROM transactions")["n"].tolist() == [16]


def test_named_parameters_are_bound(lake: DuckDBEngine) -> None:
    frame = lake.query(ACME, "SELECT count(*) AS n FROM transactions WHERE customer_id = $who AND ts >= $since",
                       {"who": "c1", "since": pd.Timestamp("2024-01-05"), "unused": 1})
    assert frame["n"].tolist() == [3]  # c1 on Jan 5, 7 and 9
    with pytest.raises(ValueError, match=r"\$who"):
        lake.query(ACME, "SELECT count(*) FROM transactions WHERE customer_id = $who")


def test_query_table_is_the_query_as_arrow(lake: DuckDBEngine) -> None:
    sql = ("SELECT customer_id, CAST(ts AS DATE) AS day, count(*) AS n, sum(amount) AS total FROM transactions "
           "WHERE ts >= $since GROUP BY 1, 2 ORDER BY 1, 2")
    params = {"since": pd.Timestamp("2024-01-05")}
    table = lake.query_table(ACME, sql, params)
    frame = lake.query(ACME, sql, params)
    assert table.column_names == list(frame.columns) and table.num_rows == len(frame) == 6
    assert table.drop_columns(["day"]).to_pylist() == frame.drop(columns="day").to_dict("records")
    assert [str(day) for day in table["day"].to_pylist()] == frame["day"].dt.strftime("%Y-%m-%d").tolist()
    assert lake.query_table(GLOBEX, "SELECT count(*) AS n FROM transactions").to_pylist() == [{"n": 3}]


def test_weekly_aggregates_and_joins_stay_in_the_tenant(lake: DuckDBEngine) -> None:
    _write(ACME, "customers", pd.DataFrame({"customer_id": ["c1", "c2"], "segment": ["gold", "silver"]}), "c")
    _write(GLOBEX, "customers", pd.DataFrame({"customer_id": ["c1"], "segment": ["rival"]}), "c")
    weekly = lake.query(ACME, "SELECT date_trunc('week', ts) AS week, count(*) AS n, sum(amount) AS revenue "
                              "FROM transactions GROUP BY date_trunc('week', ts) ORDER BY week")
    assert weekly["n"].tolist() == [7, 3] and weekly["revenue"].tolist() == [14.0, 6.0]
    assert weekly["week"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-08"]
    segments = lake.query(ACME, """
        WITH spend AS (SELECT customer_id, sum(amount) AS total FROM transactions GROUP BY customer_id)
        SELECT c.segment, s.total FROM spend s JOIN Customers c USING (customer_id) ORDER BY c.segment""")
    assert segments.to_dict("records") == [{"segment": "gold", "total": 10.0}, {"segment": "silver", "total": 10.0}]


def test_a_dataset_without_batches_is_empty_with_its_columns(lake: DuckDBEngine) -> None:
    frame = lake.query(ACME, "SELECT * FROM products")
    assert frame.empty and list(frame.columns) == canonical_schema("products").names


REFUSED = [
    "SELECT * FROM main.transactions",
    "SELECT * FROM memory.main.transactions",
    "SELECT * FROM read_parquet('s3://bucket/tenants/globex/lake/transactions/batch=g1/part-00000.parquet')",
    "SELECT * FROM 'tenants/globex/lake/transactions/batch=g1/part-00000.parquet'",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM sqlite_master",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM glob('/etc/*')",
    "SELECT count(*) FROM transactions t WHERE EXISTS (SELECT 1 FROM read_csv('/etc/passwd'))",
    "SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) AS a, x",
    "WITH transactions AS (SELECT 1 AS amount) SELECT * FROM transactions",
    "SELECT * INTO stolen FROM transactions",
    "COPY (SELECT * FROM transactions) TO '/tmp/out.csv'",
    "CREATE TABLE x AS SELECT * FROM transactions",
    "ATTACH '/tmp/x.duckdb'",
    "SET threads = 64",
    "SELECT 1; SELECT 2",
    "SELECT * FROM transactions WHERE amount > ?",
    "SELECT * FROM transactions WHERE amount > $1",
    "SELEC nonsense",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_sql_that_could_leave_the_tenant_is_refused(sql: str) -> None:
    engine: Any = DuckDBEngine("unused-bucket", "us-east-1", "http://127.0.0.1:9")  # refused before any I/O
    with pytest.raises(ValueError):
        engine.query(ACME, sql)
