"""Athena SQL generated from the one DuckDB dialect: every dataset pinned to the tenant, parameters in order."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from chalicelib.auth.permissions import TenantContext
from chalicelib.config import Settings
from chalicelib.ingest.schema import TABLES
from chalicelib.lake.batches import KIND_TYPES
from chalicelib.query import engine_for
from chalicelib.query.athena_engine import AthenaEngine, athena_literal
from chalicelib.query.duckdb_engine import DuckDBEngine
from infra.local.provision import load_template

ACME = TenantContext("acme", "u1", "analyst")
ENGINE = AthenaEngine("saleslens_prod", "saleslens-prod")


def _inline(sql: str, params: list[str]) -> str:
    """The SQL with each ``?`` replaced by its parameter, as Athena binds them (test values hold no ``?``)."""
    assert sql.count("?") == len(params)
    values = iter(params)
    return re.sub(r"\?", lambda _: next(values), sql)


def _assert_every_dataset_is_pinned(sql: str, params: list[str], tenant: str = "'acme'") -> int:
    """Each Glue table is read only inside ``SELECT ... WHERE tenant_id = <the tenant>``; returns how many."""
    tree = sqlglot.parse_one(_inline(sql, params), read="athena")
    tables = [table for table in tree.find_all(exp.Table) if table.db]
    for table in tables:
        assert table.db == "saleslens_prod" and table.name in TABLES
        select = table.find_ancestor(exp.Select)
        assert select.args["where"].this.sql(dialect="athena") == f'"tenant_id" = {tenant}'
        assert isinstance(select.parent, exp.Subquery)
    unpinned = [t for t in tree.find_all(exp.Table) if not t.db and t.name.lower() in TABLES]
    assert unpinned == []
    return len(tables)


def test_a_simple_query_reads_one_tenant_with_the_tenant_as_the_first_parameter() -> None:
    sql, params = ENGINE.compile(ACME, "SELECT sum(amount) AS revenue FROM transactions WHERE amount > $min",
                                 {"min": 10})
    columns = ", ".join(f'"{c.name}"' for c in TABLES["transactions"].columns + TABLES["transactions"].derived)
    assert sql == (f'SELECT SUM("amount") AS "revenue" FROM (SELECT {columns} FROM "saleslens_prod"."transactions" '
                   'WHERE "tenant_id" = ?) AS "transactions" WHERE "amount" > ?')
    assert params == ["'acme'", "10"]
    assert "acme" not in sql


def test_joins_subqueries_and_ctes_pin_every_dataset_reference() -> None:
    sql, params = ENGINE.compile(ACME, """
        WITH recent AS (SELECT * FROM transactions WHERE ts >= $since),
             buyers AS (SELECT customer_id FROM recent GROUP BY customer_id)
        SELECT c.segment, count(*) AS n, (SELECT count(*) FROM products) AS catalog
        FROM buyers b JOIN customers AS c ON c.customer_id = b.customer_id
        LEFT JOIN (SELECT customer_id, max(ts) AS last FROM transactions GROUP BY 1) t ON t.customer_id = b.customer_id
        WHERE c.region = $region AND b.customer_id IN (SELECT customer_id FROM prospects WHERE converted)
        GROUP BY c.segment""", {"since": dt.date(2024, 1, 1), "region": "North"})
    assert _assert_every_dataset_is_pinned(sql, params) == 5
    assert params.count("'acme'") == 5
    assert params[0] == "'acme'" and params[1] == "DATE '2024-01-01'"
    assert "'North'" in params and params.index("'North'") > params.index("DATE '2024-01-01'")


def test_named_parameters_become_qmarks_in_text_order_and_repeat_when_reused() -> None:
    sql, params = ENGINE.compile(ACME, "SELECT $b AS b, $a AS a, $b AS again FROM traffic WHERE visits > $a",
                                 {"a": 1, "b": "x"})
    assert params == ["'x'", "1", "'x'", "'acme'", "1"]
    assert _inline(sql, params).startswith("SELECT 'x' AS \"b\", 1 AS \"a\", 'x' AS \"again\" FROM (SELECT")


def test_string_literals_cannot_pose_as_parameters() -> None:
    sql, params = ENGINE.compile(ACME, "SELECT ':sl0_0 ? $x' AS s, count(*) FROM products WHERE brand = $x",
                                 {"x": "it's"})
    assert params == ["'acme'", "'it''s'"]
    assert "':sl0_0 ? $x'" in sql
    tree = sqlglot.parse_one(sql, read="athena")
    assert len(list(tree.find_all(exp.Placeholder))) == 2


def test_the_tenant_id_never_enters_the_sql_text() -> None:
    hostile = TenantContext("x' OR '1'='1", "u", "owner")
    sql, params = ENGINE.compile(hostile, "SELECT count(*) FROM customers")
    assert "OR" not in sql and params == ["'x'' OR ''1''=''1'"]


def test_duckdb_functions_transpile_to_athena() -> None:
    sql, _ = ENGINE.compile(ACME, "SELECT date_trunc('week', ts) AS week, strftime(ts, '%Y-%m') AS month, "
                                  "count(DISTINCT customer_id) AS buyers FROM transactions GROUP BY 1, 2")
    assert "DATE_TRUNC('WEEK', \"ts\")" in sql
    assert "DATE_FORMAT(\"ts\", '%Y-%m')" in sql
    assert "COUNT(DISTINCT \"customer_id\")" in sql


@pytest.mark.parametrize("sql", ["SELECT * FROM saleslens_prod.transactions",
                                 "SELECT * FROM information_schema.columns",
                                 "SELECT * FROM read_parquet('s3://x/y.parquet')", "SELECT * FROM orders"])
def test_athena_refuses_what_duckdb_refuses(sql: str) -> None:
    with pytest.raises(ValueError):
        ENGINE.compile(ACME, sql)


def test_query_runs_through_awswrangler_with_qmark_parameters() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def runner(sql: str, **kwargs: Any) -> pd.DataFrame:
        calls.append((sql, kwargs))
        return pd.DataFrame({"n": [1]})

    engine = AthenaEngine("saleslens_prod", "saleslens-prod", boto3_session="session", runner=runner)
    assert engine.query(ACME, "SELECT count(*) AS n FROM transactions")["n"].tolist() == [1]
    [(sql, kwargs)] = calls
    assert kwargs == {"database": "saleslens_prod", "workgroup": "saleslens-prod", "params": ["'acme'"],
                      "paramstyle": "qmark", "ctas_approach": False, "boto3_session": "session"}
    engine.query(ACME, "SELECT 1 AS n")
    assert calls[-1][1]["params"] is None  # Athena refuses an empty parameter list


def test_query_table_is_the_query_as_arrow() -> None:
    frame = pd.DataFrame({"day": [dt.date(2024, 1, 1)], "category": ["Tents"], "revenue": [9.5]})
    engine = AthenaEngine("saleslens_prod", "saleslens-prod", runner=lambda sql, **kwargs: frame)
    assert engine.query_table(ACME, "SELECT 1 AS n").to_pylist() == frame.to_dict("records")


def test_parameter_values_become_athena_literals() -> None:
    assert athena_literal(None) == "NULL"
    assert athena_literal(True) == "true"
    assert athena_literal(3) == "3"
    assert athena_literal(2.5) == "DOUBLE '2.5'"
    assert athena_literal("O'Brien") == "'O''Brien'"
    assert athena_literal(dt.date(2024, 2, 29)) == "DATE '2024-02-29'"
    assert athena_literal(pd.Timestamp("2024-01-01T12:00:00+02:00")) == "TIMESTAMP '2024-01-01 10:00:00.000000'"
    assert athena_literal(["a", 1]) == "ARRAY['a', 1]"
    with pytest.raises(ValueError):
        athena_literal(float("nan"))
    with pytest.raises(ValueError):
        athena_literal(object())


def test_engine_for_picks_duckdb_locally_and_athena_in_the_cloud() -> None:
    local = engine_for(Settings(endpoint_url="http://127.0.0.1:5000", data_bucket="data-bucket"))
    assert isinstance(local, DuckDBEngine) and local.bucket == "data-bucket"
    cloud = engine_for(Settings(glue_database="saleslens_prod", athena_workgroup="saleslens-prod"))
    assert isinstance(cloud, AthenaEngine) and (cloud.database, cloud.workgroup) == ("saleslens_prod", "saleslens-prod")


def test_glue_tables_match_the_canonical_datasets() -> None:
    glue_types = {"text": "string", "number": "double", "integer": "bigint", "timestamp": "timestamp",
                  "date": "date", "boolean": "boolean", "map": "map<string,string>"}
    assert set(glue_types) == set(KIND_TYPES)
    tables = {spec["Properties"]["TableInput"]["Name"]: spec["Properties"]["TableInput"]
              for spec in load_template()["Resources"].values() if spec.get("Type") == "AWS::Glue::Table"}
    assert set(tables) == set(TABLES)
    for name, dataset in TABLES.items():
        columns = tables[name]["StorageDescriptor"]["Columns"]
        assert columns == [{"Name": c.name, "Type": glue_types[c.kind]} for c in dataset.columns + dataset.derived]
        assert tables[name]["StorageDescriptor"]["InputFormat"] == "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"


def _plan_queries() -> list[tuple[str, Any]]:
    from jobs.plan import QUERIES
    return sorted(QUERIES.items())


@pytest.mark.parametrize(("name", "spec"), _plan_queries(), ids=[name for name, _ in _plan_queries()])
def test_every_analysis_aggregate_compiles_for_athena_with_every_dataset_pinned(name: str, spec: Any) -> None:
    from chalicelib.query.aggregates import sql as aggregate_sql
    from jobs.config import AnalysisConfig
    from jobs.facts import Facts

    facts = Facts(sales_rows=1000, first_ts=pd.Timestamp("2024-01-01"), last_ts=pd.Timestamp("2025-12-30"),
                  customers=100, products=20, categories=4, orders=500)
    compiled, params = ENGINE.compile(ACME, aggregate_sql(spec.sql), spec.params(facts, AnalysisConfig()))
    assert _assert_every_dataset_is_pinned(compiled, params) >= 1
    assert "acme" not in compiled
