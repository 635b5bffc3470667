"""An unexpected failure while reading or loading one upload ends it ``failed`` with a message and an ERROR log
line carrying the correlation id; the message is consumed, so SQS does not redeliver it for ever."""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from chalicelib import logs
from chalicelib.ingest import events, uploads
from chalicelib.ingest.service import IngestionService
from chalicelib.ingest.uploads import Upload


class FakeUploads:
    """UploadStore's interface in memory; ``refuse`` names a field whose presence makes ``put`` fail (a record the
    database will not take), to test that the failure is still recorded."""

    def __init__(self, refuse: str = "") -> None:
        self.items: dict[tuple[str, str], Upload] = {}
        self.refuse = refuse

    def put(self, upload: Upload) -> Upload:
        if self.refuse and getattr(upload, self.refuse):
            raise RuntimeError(f"item refused: {self.refuse} too large")
        self.items[(upload.tenant_id, upload.upload_id)] = replace(upload)
        return upload

    def get(self, tenant_id: str, upload_id: str) -> Upload | None:
        found = self.items.get((tenant_id, upload_id))
        return replace(found) if found else None

    def saved_mapping(self, tenant_id: str, dataset: str, signature: str) -> None:
        return None


class UnavailableS3:
    def download_fileobj(self, bucket: str, key: str, file: Any) -> None:
        raise ConnectionError("S3 is unavailable")


class ReadableS3:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def download_fileobj(self, bucket: str, key: str, file: Any) -> None:
        file.write(self.content)


def service(s3: Any, store: FakeUploads) -> IngestionService:
    return IngestionService(s3=s3, sqs=None, bucket="b", kms_key_id="k", uploads=store, engine=None,  # type: ignore[arg-type]
                            ingest_queue_url="q", jobs_queue_url="j", max_bytes=1 << 30, url_ttl_seconds=60)


def waiting(store: FakeUploads, status: str = uploads.WAITING_FOR_FILE, **fields: Any) -> Upload:
    return store.put(Upload(tenant_id="t1", upload_id="u20260101T000000abcd", dataset="transactions",
                            filename="sales.csv", source="upload", key="raw/t1/u20260101T000000abcd/sales.csv",
                            status=status, **fields))


def s3_event(key: str) -> dict[str, Any]:
    body = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Post",
                         "s3": {"object": {"key": key, "size": 10}}}]}
    return {"Records": [{"messageId": "m1", "body": json.dumps(body)}]}


def test_a_file_that_cannot_be_fetched_fails_the_upload_visibly(caplog: Any) -> None:
    store = FakeUploads()
    upload = waiting(store)
    ingestion = service(UnavailableS3(), store)
    with caplog.at_level(logging.ERROR):
        answer = events.handle(s3_event(upload.key), ingestion=ingestion)
    assert answer == {"batchItemFailures": []}  # consumed: retrying cannot help a record already failed
    failed = store.get("t1", upload.upload_id)
    assert failed.status == uploads.FAILED and failed.error["code"] == "ingest_failed"
    message = failed.error["message"]
    assert "on our side" in message and "Upload the file again" in message
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert line.upload_id == upload.upload_id and line.exc_info
    assert line.reference and line.reference in message  # the reference the user quotes finds the log line


def test_a_load_that_breaks_fails_the_upload_so_the_mapping_can_be_confirmed_again() -> None:
    store = FakeUploads()
    upload = waiting(store, uploads.QUEUED, headers=["a"], mapping={"dataset": "transactions", "columns": {}})
    ingestion = service(UnavailableS3(), store)
    message = {"kind": "ingest_upload", "tenant_id": "t1", "upload_id": upload.upload_id, "correlation_id": "c-77"}
    answer = events.handle({"Records": [{"messageId": "m2", "body": json.dumps(message)}]}, ingestion=ingestion)
    assert answer == {"batchItemFailures": []}
    failed = store.get("t1", upload.upload_id)
    assert failed.status == uploads.FAILED and "c-77" in failed.error["message"]
    assert "Load it again" in failed.error["message"]
    assert failed.headers == ["a"]  # kept: the portal offers to load it again


def test_a_record_the_database_refuses_is_still_recorded_as_failed() -> None:
    store = FakeUploads(refuse="preview")
    upload = waiting(store)
    ingestion = service(ReadableS3(b"order_id,ts,amount,product_name\n1,2024-01-01,5,Tent\n"), store)
    assert events.handle(s3_event(upload.key), ingestion=ingestion) == {"batchItemFailures": []}
    failed = store.get("t1", upload.upload_id)
    assert failed.status == uploads.FAILED and failed.error["code"] == "ingest_failed"
    assert failed.preview == [] and failed.filename == "sales.csv"


def test_when_even_the_failure_cannot_be_recorded_the_message_is_retried() -> None:
    store = FakeUploads(refuse="error")
    upload = waiting(store)
    ingestion = service(UnavailableS3(), store)
    answer = events.handle(s3_event(upload.key), ingestion=ingestion)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert store.get("t1", upload.upload_id).status == uploads.WAITING_FOR_FILE  # then the DLQ, and its alarm
    assert logs.correlation_id() == ""  # nothing leaks into the next message's log lines
