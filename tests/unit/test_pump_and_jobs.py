"""The local event pump delivers Lambda-shaped SQS events and deletes only what was handled."""
from __future__ import annotations

import json
from functools import partial

import pytest

from infra.local.pump import EventPump, Route
from jobs.handler import handle, parse_message


class FakeSqs:
    def __init__(self, bodies: list[str]) -> None:
        self.messages = [{"MessageId": str(i), "ReceiptHandle": f"r{i}", "Body": b} for i, b in enumerate(bodies)]
        self.deleted: list[str] = []

    def receive_message(self, **_: object) -> dict:
        batch, self.messages = self.messages[:10], self.messages[10:]
        return {"Messages": batch}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:  # noqa: N803 (boto3 names)
        self.deleted.append(ReceiptHandle)


class FakeWorker:
    """Succeeds at everything, so the pump's delivery and deletion is what is tested."""

    def analyze(self, message: dict) -> bool:
        return True

    def nightly(self) -> int:
        return 0


def test_pump_delivers_and_deletes_only_successes():
    good = json.dumps({"kind": "analyze_tenant", "tenant_id": "t1", "correlation_id": "c1"})
    sqs = FakeSqs([good, "not json", json.dumps({"kind": "nightly"})])
    pump = EventPump(sqs, [])
    handled = pump.pump_once(Route("jobs", "http://localhost/000000000000/jobs", partial(handle, worker=FakeWorker())))
    assert handled == 2 and sqs.deleted == ["r0", "r2"]


def test_pump_keeps_messages_whose_handler_raises():
    def explode(event, context):
        raise RuntimeError("half-way failure")

    sqs = FakeSqs(["{}"])
    assert EventPump(sqs, []).pump_once(Route("x", "http://h/1/q", explode)) == 0
    assert sqs.deleted == []


def test_job_messages_are_validated():
    assert parse_message('{"kind": "nightly"}')["kind"] == "nightly"
    for bad in ('{"kind": "analyze_tenant"}', '{"kind": "rm -rf"}', "[]"):
        with pytest.raises(ValueError):
            parse_message(bad)
