"""The local engine's disk cache of committed parts: only what a tenant's manifests list, fresh, and bounded."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from chalicelib import aws
from chalicelib.auth.permissions import TenantContext
from chalicelib.config import get_settings
from chalicelib.lake.batches import BatchWriter, committed_files, delete_batch
from chalicelib.query.duckdb_engine import DuckDBEngine
from chalicelib.query.part_cache import PartCache

ACME = TenantContext("acme", "u1", "analyst")
GLOBEX = TenantContext("globex", "u2", "analyst")
TOTAL = "SELECT count(*) AS n, sum(amount) AS total FROM transactions"


def _writer(ctx: TenantContext, batch_id: str) -> BatchWriter:
    s = get_settings()
    return BatchWriter(aws.client("s3"), s.data_bucket, s.kms_key_id, ctx, "transactions", batch_id, rows_per_part=4)


def _write(ctx: TenantContext, batch_id: str, n: int, amount: float) -> None:
    with _writer(ctx, batch_id) as writer:
        writer.write(_sales(n, amount))
        writer.commit()


def _sales(n: int, amount: float) -> pd.DataFrame:
    return pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "customer_id": ["c1"] * n,
                         "ts": pd.date_range("2024-01-01", periods=n, freq="D"), "amount": [amount] * n})


def _cached_files(cache: PartCache) -> list[str]:
    return sorted(name for name in os.listdir(cache.directory or "") if name.endswith(".parquet"))


def _parts(*tenants: TenantContext) -> int:
    s = get_settings()
    return sum(len(committed_files(aws.client("s3"), s.data_bucket, ctx, "transactions")) for ctx in tenants)


@pytest.fixture
def engine(lake_env: dict[str, str]) -> DuckDBEngine:
    s = get_settings()
    return DuckDBEngine(s.data_bucket, s.region, s.endpoint_url)


def test_only_the_tenants_committed_parts_are_cached_and_served(engine: DuckDBEngine) -> None:
    _write(ACME, "a1", 10, 2.0)
    _write(GLOBEX, "g1", 3, 100.0)
    with _writer(ACME, "pending") as writer:
        writer.write(_sales(8, 1000.0))  # two parts in S3, no manifest yet
        for _ in range(2):  # cold, then from the cache
            assert engine.query(ACME, TOTAL).to_dict("records") == [{"n": 10, "total": 20.0}]
            assert engine.query(GLOBEX, TOTAL).to_dict("records") == [{"n": 3, "total": 300.0}]
        assert engine.cache.misses == len(_cached_files(engine.cache)) == _parts(ACME, GLOBEX) == 4
        assert engine.query(TenantContext("initech", "u3", "owner"), TOTAL)["n"].tolist() == [0]
        writer.commit()
    assert engine.query(ACME, TOTAL).to_dict("records") == [{"n": 18, "total": 8020.0}]  # the new batch shows
    assert engine.query(GLOBEX, TOTAL).to_dict("records") == [{"n": 3, "total": 300.0}]
    assert engine.cache.misses == _parts(ACME, GLOBEX) == 6


def test_a_deleted_batch_disappears_and_a_rewritten_one_is_fetched_again(engine: DuckDBEngine) -> None:
    s3, bucket = aws.client("s3"), get_settings().data_bucket
    _write(ACME, "a1", 4, 1.0)
    _write(ACME, "a2", 4, 10.0)
    assert engine.query(ACME, TOTAL).to_dict("records") == [{"n": 8, "total": 44.0}]
    delete_batch(s3, bucket, ACME, "transactions", "a2")
    assert engine.query(ACME, TOTAL).to_dict("records") == [{"n": 4, "total": 4.0}]
    delete_batch(s3, bucket, ACME, "transactions", "a1")
    _write(ACME, "a1", 4, 7.0)  # the same key with new bytes: a new ETag, never the stale copy
    assert engine.query(ACME, TOTAL).to_dict("records") == [{"n": 4, "total": 28.0}]
    assert engine.cache.misses == 3


def test_side_by_side_queries_fetch_each_part_once(engine: DuckDBEngine) -> None:
    _write(ACME, "a1", 12, 2.0)
    with ThreadPoolExecutor(max_workers=4) as pool:
        frames = list(pool.map(lambda _: engine.query(ACME, TOTAL), range(8)))
    assert all(frame.to_dict("records") == [{"n": 12, "total": 24.0}] for frame in frames)
    assert engine.cache.misses == 3 and engine.cache.hits == 8 * 3 - 3


def test_the_cache_stays_within_its_bound_and_what_does_not_fit_is_read_from_s3(lake_env: dict[str, str]) -> None:
    s = get_settings()
    _write(ACME, "a1", 8, 1.0)  # two parts
    _write(GLOBEX, "g1", 8, 5.0)
    part_size = max(aws.client("s3").head_object(Bucket=s.data_bucket, Key=key)["ContentLength"]
                    for key in committed_files(aws.client("s3"), s.data_bucket, ACME, "transactions"))
    engine = DuckDBEngine(s.data_bucket, s.region, s.endpoint_url, cache_bytes=3 * part_size)
    for ctx, total in [(ACME, 8.0), (GLOBEX, 40.0), (ACME, 8.0)]:
        assert engine.query(ctx, TOTAL).to_dict("records") == [{"n": 8, "total": total}]
        assert engine.cache.size <= engine.cache.max_bytes
        assert len(_cached_files(engine.cache)) <= 3
    tiny = DuckDBEngine(s.data_bucket, s.region, s.endpoint_url, cache_bytes=part_size // 2)
    assert tiny.query(ACME, TOTAL).to_dict("records") == [{"n": 8, "total": 8.0}]  # straight from S3
    assert tiny.cache.misses == 0 and tiny.cache.size == 0


def test_least_recently_used_parts_go_first_and_pinned_ones_stay(lake_env: dict[str, str]) -> None:
    s3, bucket = aws.client("s3"), get_settings().data_bucket
    keys = [f"cache-test/{name}" for name in "abc"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x" * 100)
    cache = PartCache(max_bytes=250)
    for key in (keys[0], keys[1], keys[0], keys[2]):  # b is the least recently used when c arrives
        with cache.local(s3, bucket, [key]) as paths:
            assert paths is not None and open(paths[0], "rb").read() == b"x" * 100
    assert cache.size == 200 and cache.misses == 3 and cache.hits == 1
    with cache.local(s3, bucket, keys[:1]) as first:
        with cache.local(s3, bucket, keys[1:]) as rest:
            assert rest is None  # b fits once c goes, but then c has no room beside a and b, both in use
        assert first is not None and os.path.exists(first[0])
    assert cache.size <= cache.max_bytes


class CountingS3:
    """The engine's S3 client, counting the HEADs of Parquet parts."""

    def __init__(self, client: object) -> None:
        self.client, self.part_heads = client, 0

    def head_object(self, **kwargs: object) -> object:
        self.part_heads += str(kwargs["Key"]).endswith(".parquet")
        return self.client.head_object(**kwargs)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.client, name)


def test_parts_are_checked_once_per_lake_version(engine: DuckDBEngine) -> None:
    _write(ACME, "a1", 10, 2.0)
    counting = CountingS3(engine._client())
    engine._s3 = counting
    for _ in range(3):
        assert engine.query(ACME, TOTAL).to_dict("records") == [{"n": 10, "total": 20.0}]
    assert counting.part_heads == 3  # three parts, checked on the first query only
    _write(ACME, "a2", 4, 1.0)  # a commit: a new version, every part checked again
    assert engine.query(ACME, TOTAL).to_dict("records") == [{"n": 14, "total": 24.0}]
    assert counting.part_heads == 3 + 4
