"""An upload whose worker died mid-load (no error raised anywhere) shows as failed once it cannot finish."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.ingest.uploads import FAILED, INGESTING, LOADED, NEEDS_MAPPING, QUEUED, STALLED_AFTER, Upload

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _upload(status: str, idle: timedelta) -> Upload:
    return Upload(tenant_id="t", upload_id="u1", dataset="transactions", filename="a.csv", source="upload",
                  key="k", status=status, updated_at=(NOW - idle).isoformat(timespec="seconds"))


@pytest.mark.parametrize("status", [QUEUED, INGESTING])
def test_a_load_without_progress_past_every_retry_is_failed_with_what_to_do(status: str) -> None:
    upload = _upload(status, STALLED_AFTER + timedelta(seconds=1))
    shown = upload.public(NOW)
    assert shown["status"] == FAILED
    assert shown["error"]["code"] == "ingest_stalled" and "Upload it again" in shown["error"]["message"]
    assert "u1" in shown["error"]["message"]
    assert upload.status == status  # only the answer changes: a late redelivery is still loaded by the worker


@pytest.mark.parametrize("status", [QUEUED, INGESTING])
def test_a_load_still_within_its_retries_keeps_its_state(status: str) -> None:
    assert _upload(status, STALLED_AFTER - timedelta(minutes=1)).public(NOW)["status"] == status


@pytest.mark.parametrize("status", [NEEDS_MAPPING, LOADED, FAILED])
def test_states_that_wait_for_a_person_or_are_final_never_time_out(status: str) -> None:
    assert _upload(status, timedelta(days=30)).public(NOW)["status"] == status
