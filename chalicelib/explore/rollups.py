"""The daily rollup behind Explore: one ``sales_daily`` batch per transactions batch, kept in step with the lake.

Each transactions batch gets its rollup written right after it commits (by ingestion), from SQL over that
batch alone, under the same batch id; sums over all rollup batches are then exact, because de-duplication
keeps every sale in one batch only. :meth:`Rollups.sync` repairs whatever is out of step (a rollup that
failed to write, a lake from before rollups existed, a batch deleted since), so Explore never answers from
a rollup that disagrees with the order lines: until a batch's rollup exists, questions go to the lines.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from chalicelib import logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.lake import batches
from chalicelib.query.aggregates import sql as aggregate_sql
from chalicelib.query.engine import QueryEngine

ROLLUP = "sales_daily"


@dataclass(frozen=True)
class LakeState:
    """Which committed batches the tenant's answers depend on: the version the answer cache is keyed by."""

    transactions: tuple[str, ...]
    rollups: tuple[str, ...]
    traffic: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def rollup_complete(self) -> bool:
        return set(self.transactions) <= set(self.rollups)

    @property
    def key(self) -> str:
        return "|".join(",".join(part) for part in (self.transactions, self.rollups, self.traffic, self.labels))


class Rollups:
    """Writes and repairs one tenant's rollup batches."""

    def __init__(self, s3: Any, bucket: str, kms_key_id: str, engine: QueryEngine) -> None:
        self.s3, self.bucket, self.kms_key_id, self.engine = s3, bucket, kms_key_id, engine
        self._known: dict[tuple[str, str], LakeState] = {}  # (tenant, version marker ETag) → state

    def state(self, ctx: TenantContext) -> LakeState:
        """The committed batches: one HEAD of the lake's version marker while it is unchanged, else listings."""
        version = batches.lake_version(self.s3, self.bucket, ctx)
        known = self._known.get((ctx.tenant_id, version)) if version else None
        if known is not None:
            return known

        def ids(dataset: str) -> tuple[str, ...]:
            return tuple(batches.committed_batch_ids(self.s3, self.bucket, ctx, dataset))

        state = LakeState(ids("transactions"), ids(ROLLUP), ids("traffic"), ids("customer_labels"))
        if version:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[(ctx.tenant_id, version)] = state
        return state

    def extra_columns(self, ctx: TenantContext) -> list[str]:
        """The company's own transaction columns, which Explore offers as ``extra:<name>`` dimensions."""
        return batches.extra_columns(self.s3, self.bucket, ctx, "transactions")

    def build(self, ctx: TenantContext, batch_id: str) -> int:
        """Write (or rewrite) the rollup of one transactions batch; returns its row count."""
        table = self.engine.query_table(ctx, aggregate_sql(ROLLUP), {"batch": batch_id})
        with batches.BatchWriter(self.s3, self.bucket, self.kms_key_id, ctx, ROLLUP, batch_id) as writer:
            writer.write(table.append_column("batch_id", pa.repeat(batch_id, table.num_rows)))
            writer.commit({"source": "rollup", "transactions_batch": batch_id})
        return table.num_rows

    def sync(self, ctx: TenantContext, state: LakeState | None = None) -> LakeState:
        """Build missing rollups and drop orphaned ones; returns the state after."""
        state = state or self.state(ctx)
        missing = [b for b in state.transactions if b not in set(state.rollups)]
        orphans = [b for b in state.rollups if b not in set(state.transactions)]
        for batch_id in orphans:
            batches.delete_batch(self.s3, self.bucket, ctx, ROLLUP, batch_id)
        for batch_id in missing:
            self.build(ctx, batch_id)
        if missing or orphans:
            logs.logger.info("rollups synced", extra={"built": len(missing), "dropped": len(orphans)})
            return self.state(ctx)
        return state
