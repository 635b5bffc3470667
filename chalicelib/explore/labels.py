"""Each customer's segment and RFM group from the latest analysis, kept in the lake so Explore can split by them.

The analysis writes its labels as one ``customer_labels`` batch named after the run, then drops the batches of
earlier runs; Explore joins them to the order lines by customer id, in SQL, like any other dataset.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from chalicelib.auth.permissions import TenantContext
from chalicelib.lake import batches

LABELS = "customer_labels"


def labels_frame(rfm: pd.DataFrame | None, segments: pd.DataFrame | None) -> pd.DataFrame:
    """One row per labelled customer: ``customer_id``, ``segment`` (K-Means) and ``rfm_group``."""
    parts = []
    if segments is not None and len(segments):
        parts.append(segments[["customer_id", "segment"]].astype({"customer_id": str}).set_index("customer_id"))
    if rfm is not None and len(rfm):
        parts.append(rfm[["customer_id", "segment"]].astype({"customer_id": str})
                     .rename(columns={"segment": "rfm_group"}).set_index("customer_id"))
    if not parts:
        return pd.DataFrame(columns=["customer_id", "segment", "rfm_group"])
    joined = pd.concat(parts, axis=1).reindex(columns=["segment", "rfm_group"])
    return joined.astype(object).where(joined.notna(), None).reset_index().rename(columns={"index": "customer_id"})


class CustomerLabels:
    """Publishes a run's labels and retires the previous run's."""

    def __init__(self, s3: Any, bucket: str, kms_key_id: str) -> None:
        self.s3, self.bucket, self.kms_key_id = s3, bucket, kms_key_id

    def publish(self, ctx: TenantContext, run_id: str, labels: pd.DataFrame) -> int:
        """Write ``labels`` as the run's batch (nothing when empty), then delete every other run's."""
        if len(labels):
            with batches.BatchWriter(self.s3, self.bucket, self.kms_key_id, ctx, LABELS, run_id) as writer:
                writer.write(labels.assign(batch_id=run_id))
                writer.commit({"source": "analysis", "run_id": run_id})
        for batch_id in batches.committed_batch_ids(self.s3, self.bucket, ctx, LABELS):
            if batch_id != run_id:
                batches.delete_batch(self.s3, self.bucket, ctx, LABELS, batch_id)
        return len(labels)
