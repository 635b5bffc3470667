"""Listing, streaming and purging a tenant's S3 objects (every version, since the bucket is versioned)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def iter_keys(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def purge_prefix(s3: Any, bucket: str, prefix: str) -> int:
    """Delete every object version and delete marker under ``prefix``; returns how many went."""
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        versions = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(versions), 1000):
            batch = versions[start:start + 1000]
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if response.get("Errors"):
                raise RuntimeError(f"could not delete {len(response['Errors'])} objects under {prefix}")
            deleted += len(batch)
    return deleted
