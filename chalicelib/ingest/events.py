"""The ingest worker's entry point: one SQS queue carries S3 "object created" events (portal uploads
under raw/, files dropped under drop/), confirmed uploads to load, and webhook buffer flushes.
In AWS it is the chalice function ``ingest_worker``; locally the event pump calls it the same way."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from chalicelib import logs, services


def handle(event: dict[str, Any], context: Any = None, ingestion: Any = None) -> dict[str, Any]:
    """SQS batch in, ``batchItemFailures`` out: a failed message is retried, then lands in the DLQ.

    A failure while reading or loading one upload does not fail its message: the service records it on
    the upload (``failed``, with a message and a reference) and the message is done. What still fails a
    message is what could not be recorded anywhere (a malformed message, the table unreachable); SQS
    retries it ``maxReceiveCount`` times (3, ``infra/resources.json``) and then parks it on the DLQ.
    """
    failures = []
    for record in event.get("Records", []):
        try:
            handle_message(json.loads(record["body"]), ingestion or services.ingestion())
        except Exception:
            logs.logger.exception("ingest message failed", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
        finally:
            logs.clear()
    return {"batchItemFailures": failures}


def handle_message(message: dict[str, Any], ingestion: Any) -> None:
    logs.bind(correlation_id=message.get("correlation_id") or logs.new_correlation_id(),
              tenant_id=message.get("tenant_id", ""))
    if "Records" in message:  # an S3 event notification
        for s3_record in message["Records"]:
            if s3_record.get("eventSource") == "aws:s3" and s3_record.get("eventName", "").startswith(
                    "ObjectCreated"):
                obj = s3_record["s3"]["object"]
                ingestion.object_created(unquote_plus(obj["key"]), int(obj.get("size", 0)))
    elif message.get("Event") == "s3:TestEvent":
        return
    elif message.get("kind") == "ingest_upload":
        ingestion.ingest_upload(message["tenant_id"], message["upload_id"])
    elif message.get("kind") == "flush_webhooks":
        from chalicelib.webhooks.buffer import flush_due_buffers

        flush_due_buffers()
    else:
        logs.logger.warning("unknown ingest message dropped", extra={"ingest_message": message})
