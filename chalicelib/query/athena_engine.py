"""The cloud query engine: the DuckDB-dialect SQL transpiled to Athena (Trino) and run with awswrangler.

Every dataset reference becomes ``(SELECT <columns> FROM "<db>"."<dataset>" WHERE "tenant_id" = ?)``; the
tenant id and the caller's ``$name`` values travel as execution parameters, never inside the SQL text.
Parameters are first written as markers carrying a random nonce, so their order can be read back from the
generated SQL whatever sqlglot reorders or repeats, and no string literal can pose as one.
"""
from __future__ import annotations

import math
import numbers
import re
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlglot import exp

from chalicelib.auth.permissions import TenantContext
from chalicelib.ingest.schema import TABLES
from chalicelib.lake.batches import to_arrow
from chalicelib.query.engine import scope

Runner = Callable[..., pd.DataFrame]
_TENANT_COLUMN = "tenant_id"


class AthenaEngine:
    """A QueryEngine over the Glue tables; ``runner`` stands in for awswrangler in tests (moto runs no SQL)."""

    def __init__(self, database: str, workgroup: str, boto3_session: Any = None, runner: Runner | None = None) -> None:
        self.database, self.workgroup = database, workgroup
        self.boto3_session, self.runner = boto3_session, runner

    def compile(self, ctx: TenantContext, sql: str, params: dict[str, Any] | None = None) -> tuple[str, list[str]]:
        """Athena SQL with ``?`` markers, and the execution parameters (Athena literals) in marker order."""
        scoped = scope(sql)
        values = scoped.bind(params)
        nonce = secrets.token_hex(8)
        bound: list[Any] = []

        def marker(value: Any) -> exp.Placeholder:
            bound.append(value)
            return exp.Placeholder(this=f"sl{nonce}_{len(bound) - 1}")

        def tenant_rows(dataset: str, table: exp.Table) -> exp.Subquery:
            spec = TABLES[dataset]
            select = (exp.select(*(exp.column(column.name) for column in spec.columns + spec.derived))
                      .from_(exp.table_(dataset, db=self.database))
                      .where(exp.column(_TENANT_COLUMN).eq(marker(ctx.tenant_id))))
            return select.subquery()

        for bracket in scoped.tree.find_all(exp.Bracket):  # a missing map key or index is NULL, as in DuckDB
            bracket.set("safe", True)
        for placeholder in list(scoped.tree.find_all(exp.Placeholder)):
            placeholder.replace(marker(values[placeholder.this]))
        scoped.replace_tables(tenant_rows)
        text = scoped.tree.sql(dialect="athena", identify=True, comments=False)
        order: list[int] = []

        def positional(match: re.Match[str]) -> str:
            order.append(int(match.group(1)))
            return "?"

        text = re.sub(rf":sl{nonce}_(\d+)(?![A-Za-z0-9_])", positional, text)
        if set(order) != set(range(len(bound))):
            raise RuntimeError("a query parameter was lost in translation to Athena SQL")
        return text, [athena_literal(bound[index]) for index in order]

    def query(self, ctx: TenantContext, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        text, execution_params = self.compile(ctx, sql, params)
        runner = self.runner or _read_sql_query
        return runner(text, database=self.database, workgroup=self.workgroup, params=execution_params or None,
                      paramstyle="qmark", ctas_approach=False, boto3_session=self.boto3_session)

    def query_table(self, ctx: TenantContext, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """:meth:`query` as Arrow (awswrangler reads Athena's results into pandas either way)."""
        return to_arrow(self.query(ctx, sql, params))


def _read_sql_query(sql: str, **kwargs: Any) -> pd.DataFrame:
    import awswrangler as wr  # heavy; only the cloud path pays for it

    return wr.athena.read_sql_query(sql, **kwargs)


def athena_literal(value: Any) -> str:
    """``value`` as the SQL literal Athena expects in ExecutionParameters (strings quoted and escaped)."""
    if value is None or value is pd.NaT:
        return "NULL"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, Decimal):
        return f"DECIMAL '{value}'"
    if isinstance(value, numbers.Real):
        if not math.isfinite(float(value)):
            raise ValueError(f"query parameters must be finite numbers, not {value}")
        return f"DOUBLE '{float(value)!r}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):  # naive UTC, like the lake's timestamps
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return f"TIMESTAMP '{value.isoformat(sep=' ', timespec='microseconds')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "ARRAY[" + ", ".join(athena_literal(item) for item in value) + "]"
    raise ValueError(f"unsupported query parameter type: {type(value).__name__}")
