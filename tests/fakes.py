"""In-memory stand-ins with the interfaces of RunStore, ArtifactStore and QueryEngine, for fast honest tests.

The artifact fake round-trips frames through Parquet and meta through JSON, so anything the real store could
not hold fails here too; both stores log writes to one shared ``events`` list to check publish order.
"""
from __future__ import annotations

import copy
import io
import json
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from chalicelib import errors
from chalicelib.lake.batches import canonical_schema
from chalicelib.query.engine import scope


@dataclass
class FakeRun:
    tenant_id: str
    run_id: str
    status: str = "queued"
    trigger: str = "ingest"
    reason: str = ""
    created_at: str = ""
    started_at: str = ""
    finished_at: str = ""
    step: str = ""
    progress: int = 0
    steps: list[dict] = field(default_factory=list)
    error: dict = field(default_factory=dict)
    batches: list[str] = field(default_factory=list)
    artifacts: list[dict] = field(default_factory=list)
    attempts: int = 0


class FakeRunStore:
    def __init__(self, events: list | None = None) -> None:
        self.events = [] if events is None else events
        self.runs: dict[tuple[str, str], FakeRun] = {}
        self.pointers: dict[str, str] = {}
        self.updates: list[FakeRun] = []
        self._next = 0

    def request(self, tenant_id: str, trigger: str, reason: str = "", batch_id: str | None = None):
        queued = [r for r in self.runs.values() if r.tenant_id == tenant_id and r.status == "queued"]
        if queued:
            run = queued[0]
            created = False
        else:
            self._next += 1
            run = FakeRun(tenant_id, f"run{self._next:04d}", trigger=trigger, reason=reason)
            self.runs[(tenant_id, run.run_id)] = run
            created = True
        if batch_id:
            run.batches.append(batch_id)
        return copy.deepcopy(run), created

    def start(self, tenant_id: str, run_id: str, lease_seconds: int = 1800):
        run = self.runs[(tenant_id, run_id)]
        busy = any(r.status == "running" for r in self.runs.values() if r.tenant_id == tenant_id)
        if busy or run.status not in ("queued", "failed"):
            return None
        run.status, run.attempts, run.error = "running", run.attempts + 1, {}
        return copy.deepcopy(run)

    def update(self, run: FakeRun) -> None:
        self.updates.append(copy.deepcopy(run))
        self.runs[(run.tenant_id, run.run_id)] = copy.deepcopy(run)
        self.events.append(("update", run.run_id, run.progress))

    def finish(self, run: FakeRun, status: str, error: dict | None = None):
        run.status, run.error = status, error or {}
        self.runs[(run.tenant_id, run.run_id)] = copy.deepcopy(run)
        self.events.append(("finish", run.run_id, status))
        queued = [r for r in self.runs.values() if r.tenant_id == run.tenant_id and r.status == "queued"]
        return copy.deepcopy(queued[0]) if queued else None

    def publish_latest(self, tenant_id: str, run_id: str) -> None:
        self.pointers[tenant_id] = run_id
        self.events.append(("publish", run_id))

    def latest(self, tenant_id: str) -> str | None:
        return self.pointers.get(tenant_id)

    def get(self, tenant_id: str, run_id: str):
        run = self.runs.get((tenant_id, run_id))
        return copy.deepcopy(run) if run else None


class FakeArtifactStore:
    def __init__(self, events: list | None = None) -> None:
        self.events = [] if events is None else events
        self.objects: dict[tuple[str, str, str], tuple[bytes, str]] = {}

    def write(self, ctx, run_id: str, artifact: str, frame: pd.DataFrame, meta: dict | None = None) -> dict:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        self.objects[(ctx.tenant_id, run_id, artifact)] = (buffer.getvalue(), json.dumps(meta or {}))
        self.events.append(("write", run_id, artifact))
        return {"artifact": artifact, "rows": len(frame), "bytes": len(buffer.getvalue())}

    def read(self, ctx, run_id: str, artifact: str) -> tuple[pd.DataFrame, dict]:
        try:
            data, meta = self.objects[(ctx.tenant_id, run_id, artifact)]
        except KeyError:
            raise errors.NotFound(f"No {artifact} in run {run_id}.") from None
        return pd.read_parquet(io.BytesIO(data)), json.loads(meta)


def canonical_frame(dataset: str, frame: pd.DataFrame) -> pa.Table:
    """``frame`` with the dataset's canonical columns and types, as the lake would hold it."""
    schema = canonical_schema(dataset)
    columns = {}
    for field_ in schema:
        if field_.name in frame:
            values = frame[field_.name]
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype(object).where(values.notna(), None)
            columns[field_.name] = pa.array(values, type=field_.type, from_pandas=True)
        else:
            columns[field_.name] = pa.nulls(len(frame), type=field_.type)
    return pa.table(columns, schema=schema)


class FrameEngine:
    """The QueryEngine contract (scoped SQL, ``$name`` params) over in-memory tables per tenant, via DuckDB."""

    def __init__(self, tables: dict[str, dict[str, pd.DataFrame]] | None = None) -> None:
        self.tables = {tenant: {name: canonical_frame(name, frame) for name, frame in datasets.items()}
                       for tenant, datasets in (tables or {}).items()}
        self.queries: list[str] = []

    def query(self, ctx, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        scoped = scope(sql)
        values = scoped.bind(params)
        self.queries.append(sql)
        with duckdb.connect(":memory:") as connection:
            for dataset in scoped.datasets:
                table = self.tables.get(ctx.tenant_id, {}).get(dataset, canonical_schema(dataset).empty_table())
                connection.register(dataset, table)
            return connection.execute(scoped.tree.sql(dialect="duckdb"), values).df()
