"""Worker entry point (container-image Lambda; the local event pump calls the same function).

Foundation scope: messages are parsed and validated, and their receipt logged with the
correlation id they carry. The analysis pipeline that runs on them is built in the analysis issue.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib import logs

KINDS = ("analyze_tenant", "nightly")


def parse_message(body: str) -> dict[str, Any]:
    """A job message: ``{"kind": ..., "tenant_id": ..., "correlation_id": ...}``; raises ValueError."""
    message = json.loads(body)
    if not isinstance(message, dict) or message.get("kind") not in KINDS:
        raise ValueError(f"unknown job message: {body[:200]}")
    if message["kind"] == "analyze_tenant" and not message.get("tenant_id"):
        raise ValueError("analyze_tenant needs a tenant_id")
    return message


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch (ReportBatchItemFailures) or a scheduled ``{"kind": "nightly"}`` event."""
    if "Records" not in event:
        logs.bind(correlation_id=logs.new_correlation_id())
        logs.logger.info("job received", extra={"job": parse_message(json.dumps(event))})
        return {"batchItemFailures": []}
    failures = []
    for record in event["Records"]:
        try:
            message = parse_message(record["body"])
        except ValueError:
            logs.logger.exception("unreadable job message", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        logs.bind(correlation_id=message.get("correlation_id") or logs.new_correlation_id(),
                  tenant_id=message.get("tenant_id", ""))
        logs.logger.info("job received", extra={"job": message})
    return {"batchItemFailures": failures}
