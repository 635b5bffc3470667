"""The lake: batches appear only through a committed manifest, failures leave nothing behind, all of it encrypted."""
from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chalicelib import aws
from chalicelib.auth.permissions import TenantContext
from chalicelib.config import get_settings
from chalicelib.lake import batches, layout
from chalicelib.lake.batches import BatchWriter, committed_files, delete_batch, list_batches
from chalicelib.query.duckdb_engine import DuckDBEngine

ACME = TenantContext("acme", "u1", "analyst")


def _rows(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(start, start + n)],
        "ts": pd.date_range("2024-01-01", periods=n, freq="h") + pd.Timedelta(hours=start),
        "product_id": [f"p{i % 3}" for i in range(n)],
        "amount": [float(i) for i in range(start, start + n)],
        "store_note": [f"note {i}" for i in range(n)],  # an extra column the tenant brought
    })


def _writer(s3: Any, batch_id: str, rows_per_part: int = 10, ctx: TenantContext = ACME) -> BatchWriter:
    s = get_settings()
    return BatchWriter(s3, s.data_bucket, s.kms_key_id, ctx, "transactions", batch_id, rows_per_part=rows_per_part)


def _keys(s3: Any, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=get_settings().data_bucket, Prefix=prefix).get("Contents", [])]


class FailingUploads:
    """An S3 client whose n-th part upload fails, as a network error or throttling would."""

    def __init__(self, s3: Any, fail_on: int) -> None:
        self._s3, self._fail_on, self.uploads = s3, fail_on, 0

    def upload_fileobj(self, *args: Any, **kwargs: Any) -> None:
        self.uploads += 1
        if self.uploads == self._fail_on:
            raise ConnectionError("simulated S3 failure")
        self._s3.upload_fileobj(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


def test_two_parts_become_visible_together_on_commit(lake_env: dict[str, str]) -> None:
    s3, bucket = aws.client("s3"), get_settings().data_bucket
    with _writer(s3, "b1") as writer:
        writer.write(_rows(12))
        writer.write(_rows(8, start=12))
        assert committed_files(s3, bucket, ACME, "transactions") == []  # parts written, nothing visible yet
        info = writer.commit({"source": "upload", "upload_id": "u-1"})

    assert info["rows"] == 20 and info["parts"] == 2
    files = committed_files(s3, bucket, ACME, "transactions")
    assert files == [layout.part_key(ACME, "transactions", "b1", 0), layout.part_key(ACME, "transactions", "b1", 1)]
    manifest = s3.get_object(Bucket=bucket, Key=layout.manifest_key(ACME, "transactions", "b1"))["Body"].read()
    assert manifest.decode().splitlines() == [f"s3://{bucket}/{key}" for key in files]
    [batch] = list_batches(s3, bucket, ACME, "transactions")
    assert batch["batch_id"] == "b1" and batch["rows"] == 20
    assert batch["metadata"] == {"source": "upload", "upload_id": "u-1"}
    assert _keys(s3, layout.manifest_prefix(ACME, "transactions")) == [layout.manifest_key(ACME, "transactions", "b1")]


def test_a_writer_failing_half_way_leaves_no_manifest_no_parts_and_reads_empty(lake_env: dict[str, str]) -> None:
    s = get_settings()
    s3 = FailingUploads(aws.client("s3"), fail_on=2)
    with pytest.raises(ConnectionError):
        with _writer(s3, "broken") as writer:
            writer.write(_rows(25))
            writer.commit()

    assert s3.uploads == 2
    assert _keys(s3, layout.dataset_prefix(ACME, "transactions")) == []
    assert committed_files(s3, s.data_bucket, ACME, "transactions") == []
    engine = DuckDBEngine(s.data_bucket, s.region, s.endpoint_url)
    assert engine.query(ACME, "SELECT count(*) AS n FROM transactions")["n"].tolist() == [0]


def test_leaving_the_block_without_commit_discards_the_batch(lake_env: dict[str, str]) -> None:
    s3 = aws.client("s3")
    with _writer(s3, "forgotten") as writer:
        writer.write(_rows(15))
    assert _keys(s3, layout.dataset_prefix(ACME, "transactions")) == []


def test_zero_rows_commit_writes_nothing(lake_env: dict[str, str]) -> None:
    s3 = aws.client("s3")
    with _writer(s3, "empty") as writer:
        writer.write(_rows(0))
        info = writer.commit({"source": "drop"})
    assert info["rows"] == 0 and info["manifest"] is None
    assert _keys(s3, layout.dataset_prefix(ACME, "transactions")) == []


def test_parts_manifest_and_info_are_sse_kms_encrypted_zstd_parquet_with_one_schema(lake_env: dict[str, str]) -> None:
    s, s3 = get_settings(), aws.client("s3")
    with _writer(s3, "enc") as writer:
        writer.write(_rows(15))
        writer.commit()

    keys = _keys(s3, layout.dataset_prefix(ACME, "transactions"))
    assert len(keys) == 4  # two parts, the batch info, the manifest
    for key in keys:
        head = s3.head_object(Bucket=s.data_bucket, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"].endswith(s.kms_key_id.rsplit("/", 1)[-1])
    schemas = []
    for key in committed_files(s3, s.data_bucket, ACME, "transactions"):
        parquet = pq.ParquetFile(io.BytesIO(s3.get_object(Bucket=s.data_bucket, Key=key)["Body"].read()))
        metadata = parquet.metadata
        assert {metadata.row_group(g).column(c).compression for g in range(metadata.num_row_groups)
                for c in range(metadata.num_columns)} == {"ZSTD"}
        schemas.append(parquet.schema_arrow)
    assert schemas[0] == schemas[1]
    assert schemas[0].field("ts").type == pa.timestamp("us")
    assert schemas[0].field("store_note").type == pa.string()
    assert schemas[0].names[:len(batches.canonical_schema("transactions"))] == batches.canonical_schema(
        "transactions").names


def test_delete_batch_hides_it_first_then_removes_its_parts(lake_env: dict[str, str]) -> None:
    s3, bucket = aws.client("s3"), get_settings().data_bucket
    for batch_id in ("keep", "drop"):
        with _writer(s3, batch_id) as writer:
            writer.write(_rows(5))
            writer.commit()
    assert delete_batch(s3, bucket, ACME, "transactions", "drop") == 1
    assert [b["batch_id"] for b in list_batches(s3, bucket, ACME, "transactions")] == ["keep"]
    assert _keys(s3, layout.batch_prefix(ACME, "transactions", "drop")) == []
    assert committed_files(s3, bucket, ACME, "transactions") == [layout.part_key(ACME, "transactions", "keep", 0)]


def test_a_manifest_pointing_outside_the_tenant_is_refused(lake_env: dict[str, str]) -> None:
    s3, bucket = aws.client("s3"), get_settings().data_bucket
    other = TenantContext("other", "u2", "owner")
    with _writer(s3, "theirs", ctx=other) as writer:
        writer.write(_rows(3))
        writer.commit()
    stolen = layout.part_key(other, "transactions", "theirs", 0)
    s3.put_object(Bucket=bucket, Key=layout.manifest_key(ACME, "transactions", "evil"),
                  Body=f"s3://{bucket}/{stolen}\n".encode())
    with pytest.raises(ValueError, match="outside"):
        committed_files(s3, bucket, ACME, "transactions")


def test_rows_are_conformed_to_the_canonical_types() -> None:
    fingerprints = pa.array([2**64 - 1, 7], pa.uint64())
    frame = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01T10:00:00+02:00", "2024-01-02T00:00:00+02:00"])})
    table = batches.to_arrow(frame).append_column("quantity", pa.array([1, 2], pa.int32())).append_column(
        "row_fingerprint", fingerprints).append_column("extra", pa.array([1, None], pa.int64()))
    schema = batches.batch_schema("transactions", table.column_names)
    out = batches.conform(table, schema)
    assert out.schema == schema and out.num_rows == 2
    assert out["ts"].to_pylist()[0] == pd.Timestamp("2024-01-01T08:00:00").to_pydatetime()
    assert out["row_fingerprint"].to_pylist() == [-1, 7]  # the bits of the hash survive
    assert out["extra"].to_pylist() == ["1", None] and out["amount"].null_count == 2
    with pytest.raises(ValueError, match="reserved"):
        batches.batch_schema("transactions", ["ts", "tenant_id"])
    with pytest.raises(ValueError, match="not in this batch"):
        batches.conform(pa.table({"surprise": [1]}), schema)


def test_layout_builds_tenant_keys_and_refuses_crafted_ids() -> None:
    assert layout.raw_key(ACME, "up1", "C:\\fakepath\\sales.csv") == "raw/acme/up1/sales.csv"
    assert layout.drop_prefix(ACME) == "drop/acme/"
    assert layout.part_key(ACME, "customers", "b7", 3) == "tenants/acme/lake/customers/batch=b7/part-00003.parquet"
    assert layout.manifest_key(ACME, "customers", "b7") == "tenants/acme/lake/customers/_manifests/b7.manifest"
    assert layout.rejects_key(ACME, "up1") == "tenants/acme/rejects/up1.csv"
    assert layout.results_key(ACME, "r1", "forecast") == "tenants/acme/results/r1/forecast.parquet.enc"
    for call in (lambda: layout.part_key(ACME, "transactions", "../x", 0),
                 lambda: layout.dataset_prefix(ACME, "secrets"),
                 lambda: layout.drop_prefix(TenantContext("a/b", "u", "owner")),
                 lambda: layout.raw_key(ACME, "up1", "..")):
        with pytest.raises(ValueError):
            call()
    assert layout.tenant_of_key("raw/acme/up1/sales.csv") == "acme"
    assert layout.tenant_of_key("drop/acme/2024/05/export.csv.gz") == "acme"
    for key in ("drop/acme/", "raw/acme/sales.csv", "raw/acme/up1/dir/x.csv", "tenants/acme/lake/x",
                "drop/../x.csv", "drop/acme/../../raw/x.csv", "raw//up1/x.csv"):
        assert layout.tenant_of_key(key) is None, key
