"""The local query engine: DuckDB scanning the tenant's committed Parquet in S3 through Arrow.

Each query gets a fresh in-memory connection holding only the datasets it names, each an Arrow dataset of
the files the tenant's manifests list. DuckDB streams the scan and pushes projections and filters into it,
so memory follows the result, not the table. The connection cannot touch files or settings.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import boto3
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from chalicelib.auth.permissions import TenantContext
from chalicelib.lake import batches
from chalicelib.query.engine import scope


class DuckDBEngine:
    """A :class:`~chalicelib.query.engine.QueryEngine` over the lake in the embedded AWS (or any S3)."""

    def __init__(self, bucket: str, region: str, endpoint_url: str | None = None,
                 boto3_session: boto3.Session | None = None, memory_limit: str = "1GB", threads: int = 2) -> None:
        self.bucket, self.region, self.endpoint_url = bucket, region, endpoint_url or None
        self.boto3_session = boto3_session
        self.memory_limit, self.threads = memory_limit, threads
        self._s3: Any = None

    def query(self, ctx: TenantContext, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        scoped = scope(sql)
        values = scoped.bind(params)
        scoped.rename_tables(lambda dataset: dataset)  # normalise "Transactions" etc. to the registered name
        relations = {dataset: self._relation(ctx, dataset) for dataset in scoped.datasets}
        config = {"threads": self.threads, "memory_limit": self.memory_limit, "preserve_insertion_order": False,
                  "enable_external_access": False, "python_enable_replacements": False}
        with duckdb.connect(":memory:", config=config) as connection:
            for dataset, relation in relations.items():
                connection.register(dataset, relation)
            connection.execute("SET lock_configuration = true")
            return connection.execute(scoped.tree.sql(dialect="duckdb", comments=False), values).df()

    def _relation(self, ctx: TenantContext, dataset: str) -> pa.Table | ds.Dataset:
        """The tenant's committed files of ``dataset`` with the canonical schema; empty if none is committed."""
        schema = batches.canonical_schema(dataset)
        files = batches.committed_files(self._client(), self.bucket, ctx, dataset)
        if not files:
            return schema.empty_table()
        return ds.dataset([f"{self.bucket}/{key}" for key in files], schema=schema, format="parquet",
                          filesystem=self._filesystem())

    def _session(self) -> boto3.Session:
        return self.boto3_session or boto3.Session(region_name=self.region)

    def _client(self) -> Any:
        if self._s3 is None:
            self._s3 = self._session().client("s3", region_name=self.region, endpoint_url=self.endpoint_url)
        return self._s3

    def _filesystem(self) -> pafs.S3FileSystem:
        """Arrow's S3 client, with boto3's credentials (read per query, so rotated ones are picked up)."""
        credentials = self._session().get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials else None
        options: dict[str, Any] = {"region": self.region}
        if frozen:
            options.update(access_key=frozen.access_key, secret_key=frozen.secret_key, session_token=frozen.token)
        else:
            options["anonymous"] = True
        if self.endpoint_url:
            endpoint = urlsplit(self.endpoint_url)
            options.update(endpoint_override=endpoint.netloc, scheme=endpoint.scheme or "https")
        return pafs.S3FileSystem(**options)
