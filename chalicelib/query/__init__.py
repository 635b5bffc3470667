"""Tenant-scoped SQL over the lake: one dialect (DuckDB's), run by DuckDB locally and Athena in the cloud."""
from chalicelib.query.engine import QueryEngine, engine_for, scope

__all__ = ["QueryEngine", "engine_for", "scope"]
