"""The query port, and the one place SQL is scoped to a tenant.

SQL is written once, in DuckDB's dialect, naming datasets bare (``transactions``, ``customers``...) and
binding values as ``$name``. :func:`scope` parses it with sqlglot and refuses anything that could read
outside the caller's tenant: statements other than one query, qualified or unknown tables, table functions
(``read_parquet``, ``glob``...), file paths, ``SELECT ... INTO``. Each engine then puts the tenant's own
data where a dataset is named.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from chalicelib.auth.permissions import TenantContext
from chalicelib.ingest.schema import TABLES

if TYPE_CHECKING:
    import pyarrow as pa

    from chalicelib.config import Settings

_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORBIDDEN = (exp.Into, exp.Command, exp.DML, exp.DDL, exp.Parameter)
_TABLE_ARGS = {"this", "alias", "sample", "pivots"}  # what survives replacing a dataset by the tenant's rows


class QueryEngine(Protocol):
    """Runs one read-only query over one tenant's committed data and returns its (aggregate) result."""

    def query(self, ctx: TenantContext, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        ...

    def query_table(self, ctx: TenantContext, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """The same result as Arrow, for results written back to the lake (a batch's Explore rollup)."""
        ...


@dataclass
class ScopedQuery:
    """A parsed, checked query: ``tables`` are its dataset references, ``params`` its ``$name``s in order."""

    tree: exp.Query
    tables: list[tuple[str, exp.Table]]
    params: list[str]

    @property
    def datasets(self) -> set[str]:
        return {dataset for dataset, _ in self.tables}

    def bind(self, values: dict[str, Any] | None) -> dict[str, Any]:
        """The values of the parameters the query uses; a missing one is the caller's error."""
        values = values or {}
        missing = sorted({name for name in self.params if name not in values})
        if missing:
            raise ValueError(f"missing query parameter(s): {', '.join('$' + name for name in missing)}")
        return {name: values[name] for name in dict.fromkeys(self.params)}

    def rename_tables(self, name: Callable[[str], str]) -> None:
        """Point each dataset reference at the relation ``name(dataset)``, keeping aliases and modifiers."""
        for dataset, table in self.tables:
            table.set("this", exp.to_identifier(name(dataset)))

    def replace_tables(self, source: Callable[[str, exp.Table], exp.Expression]) -> None:
        """Put ``source(dataset, table)`` where each dataset is named, keeping the reference's alias."""
        for dataset, table in self.tables:
            replacement = source(dataset, table)
            if isinstance(replacement, exp.Subquery):
                alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(dataset))
                replacement.set("alias", alias.copy())
                for key in ("sample", "pivots"):
                    if table.args.get(key):
                        replacement.set(key, table.args[key])
            table.replace(replacement)
        self.tables = []


def scope(sql: str) -> ScopedQuery:
    """Parse DuckDB SQL and refuse everything but one query over the tenant's datasets."""
    try:
        statements = [statement for statement in sqlglot.parse(sql, read="duckdb") if statement is not None]
    except SqlglotError as error:
        raise ValueError(f"could not parse the query: {error}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ValueError("exactly one SELECT query is allowed")
    tree = statements[0]
    forbidden = tree.find(*_FORBIDDEN)
    if forbidden is not None:
        raise ValueError(f"not allowed in a query: {forbidden.key.upper()}")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    shadowing = ctes & set(TABLES)
    if shadowing:
        raise ValueError(f"a CTE may not be named like a dataset: {', '.join(sorted(shadowing))}")
    tables = [(_dataset_of(table), table) for table in tree.find_all(exp.Table) if not _is_cte_reference(table)]
    return ScopedQuery(tree, tables, _parameters(tree))


def _dataset_of(table: exp.Table) -> str:
    if not isinstance(table.this, exp.Identifier):
        raise ValueError(f"table functions are not allowed: {table.this.sql(dialect='duckdb')}")
    if table.args.get("db") or table.args.get("catalog"):
        raise ValueError(f"only bare dataset names are allowed, not {table.sql(dialect='duckdb')}")
    name = table.name.lower()
    if name not in TABLES:
        raise ValueError(f"unknown dataset {table.name!r}; expected one of {', '.join(TABLES)}")
    modifiers = {key for key, value in table.args.items() if value} - _TABLE_ARGS
    if modifiers:
        raise ValueError(f"unsupported modifier on {name}: {', '.join(sorted(modifiers))}")
    return name


def _is_cte_reference(table: exp.Table) -> bool:
    """Whether an unqualified ``table`` names a CTE of an enclosing WITH (lexical scope, as DuckDB resolves it)."""
    if not isinstance(table.this, exp.Identifier) or table.args.get("db") or table.args.get("catalog"):
        return False
    name, node = table.name.lower(), table.parent
    while node is not None:
        with_ = node.args.get("with_") if isinstance(node, exp.Query) else None
        if with_ is not None and any(cte.alias_or_name.lower() == name for cte in with_.expressions):
            return True
        node = node.parent
    return False


def _parameters(tree: exp.Expression) -> list[str]:
    names = []
    for placeholder in tree.find_all(exp.Placeholder):
        name = placeholder.this
        if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
            raise ValueError("use named parameters ($name), not ? or $1")
        names.append(name)
    return names


def engine_for(settings: Settings) -> QueryEngine:
    """DuckDB over the lake when an endpoint points at the embedded AWS (local stack, tests); Athena otherwise."""
    if settings.endpoint_url:
        from chalicelib.query.duckdb_engine import DuckDBEngine

        return DuckDBEngine(settings.data_bucket, settings.region, settings.endpoint_url)
    from chalicelib.query.athena_engine import AthenaEngine

    return AthenaEngine(settings.glue_database, settings.athena_workgroup)
