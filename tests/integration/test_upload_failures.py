"""Uploads never hang: every way the ingest path can fail ends the upload ``failed`` with a message the user
can act on, a message that keeps failing is parked on the dead-letter queue, and names are shown cleaned."""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from chalicelib import services
from chalicelib.ingest import events, limits
from infra.local import pump
from tests.integration.conftest import Api
from tests.integration.test_uploads import drain, lake_api, upload  # noqa: F401 - the fixture is used by name


@pytest.fixture
def portal(lake_api: Api) -> Api:  # noqa: F811 - the imported fixture, by name
    return lake_api


def test_a_five_megabyte_field_fails_the_upload_with_a_message(portal: Api, lake_env: dict[str, str]) -> None:
    token = portal.register("ada@acme.example")
    record = upload(portal, lake_env, token, "one-field.csv", b"a\n" + b"x" * 5_000_000 + b"\n")
    assert record["status"] == "failed", record["status"]
    assert record["error"]["code"] == "unreadable_file"
    assert "Row 2, column 'a'" in record["error"]["message"] and "quote" in record["error"]["message"]
    assert _pending(lake_env["SL_INGEST_QUEUE_URL"]) == 0 and _parked(lake_env) == []


def test_a_long_value_under_the_limit_is_read_and_previewed_cut(portal: Api, lake_env: dict[str, str]) -> None:
    token = portal.register("ada@acme.example")
    long_name = "Tent " + "x" * (limits.MAX_VALUE_CHARS - 5)
    content = f"order_id,ts,product_name,amount\n1,2024-01-05,{long_name},199.0\n2,2024-01-06,Stove,49.5\n"
    record = upload(portal, lake_env, token, "long.csv", content.encode())
    assert record["status"] == "needs_mapping", record.get("error")
    assert record["preview"][0]["product_name"] == long_name[:limits.PREVIEW_CELL_CHARS - 1] + "…"
    assert record["preview"][1]["product_name"] == "Stove"


def test_too_many_columns_are_refused_with_a_message(portal: Api, lake_env: dict[str, str]) -> None:
    token = portal.register("ada@acme.example")
    wide = limits.MAX_COLUMNS + 1
    content = ",".join(f"c{n}" for n in range(wide)) + "\n" + ",".join("1" for _ in range(wide)) + "\n"
    record = upload(portal, lake_env, token, "wide.csv", content.encode())
    assert record["status"] == "failed" and f"{wide:,} columns" in record["error"]["message"]


def test_a_file_gone_before_it_is_read_fails_the_upload(portal: Api, lake_env: dict[str, str]) -> None:
    """An unexpected failure (here S3 answering 404) is recorded on the upload; the message is not redelivered."""
    token = portal.register("ada@acme.example")
    created = portal.call("POST", "/uploads", {"filename": "sales.csv", "size": 10}, token=token).data["upload"]
    tenant_id = portal.call("GET", "/me", token=token).data["tenant"]["tenant_id"]
    key = services.ingestion().uploads.get(tenant_id, created["upload_id"]).key
    notification = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Post",
                                 "s3": {"object": {"key": key, "size": 10}}}]}
    boto3.client("sqs").send_message(QueueUrl=lake_env["SL_INGEST_QUEUE_URL"], MessageBody=json.dumps(notification))
    drain(lake_env)
    record = portal.call("GET", f"/uploads/{created['upload_id']}", token=token).data
    assert record["status"] == "failed" and record["error"]["code"] == "ingest_failed"
    assert "on our side" in record["error"]["message"]
    assert _pending(lake_env["SL_INGEST_QUEUE_URL"]) == 0 and _parked(lake_env) == []


def test_a_message_that_keeps_failing_lands_on_the_dead_letter_queue(lake_env: dict[str, str]) -> None:
    """The local pump leaves a failed message on the queue; the embedded SQS applies the queue's RedrivePolicy
    (maxReceiveCount 3, as in infra/resources.json) and moves it to the DLQ instead of looping."""
    sqs, queue_url = boto3.client("sqs"), lake_env["SL_INGEST_QUEUE_URL"]
    drain(lake_env)  # S3's test event, sent when the bucket notification was set up
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "0"})  # redeliver at once
    sqs.send_message(QueueUrl=queue_url, MessageBody="not json at all")
    route = pump.Route("ingest", queue_url, events.handle)
    event_pump = pump.EventPump(sqs, [route], wait_seconds=0)
    attempts = 0
    while _pending(queue_url) and attempts < 10:
        assert event_pump.pump_once(route) == 0
        attempts += 1
    assert attempts == 4  # three failed deliveries; the fourth receive moves it
    assert _parked(lake_env) == ["not json at all"]


def test_the_file_name_is_shown_without_its_path(portal: Api, lake_env: dict[str, str]) -> None:
    token = portal.register("ada@acme.example")
    for sent, shown in (("../../etc/passwd.csv", "passwd.csv"), ("invoice\u202ecod.csv", "invoicecod.csv"),
                        ("Ventes été 2025.csv", "Ventes été 2025.csv")):
        created = portal.call("POST", "/uploads", {"filename": sent, "size": 10}, token=token)
        assert created.status_code == 201, created.data
        assert created.data["upload"]["filename"] == shown
        fetched = portal.call("GET", f"/uploads/{created.data['upload']['upload_id']}", token=token).data
        assert fetched["filename"] == shown
        assert "/etc/" not in created.data["form"]["fields"]["key"]


def test_an_inbox_file_is_listed_under_a_clean_name(portal: Api, lake_env: dict[str, str]) -> None:
    token = portal.register("ada@acme.example")
    tenant_id = portal.call("GET", "/me", token=token).data["tenant"]["tenant_id"]
    body = "order_id,ts,product_name,amount\n1,2024-01-05,Tent,199.0\n"
    boto3.client("s3").put_object(Bucket=lake_env["SL_DATA_BUCKET"], Key=f"drop/{tenant_id}/\u202egpj.csv",
                                  Body=body.encode())
    drain(lake_env)
    [listed] = portal.call("GET", "/uploads", token=token).data["uploads"]
    assert listed["filename"] == "gpj.csv" and listed["status"] == "loaded"


def _pending(queue_url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(value) for value in attributes["Attributes"].values())


def _parked(env: dict[str, str]) -> list[Any]:
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=env["SL_INGEST_QUEUE_URL"], AttributeNames=["RedrivePolicy"])
    dlq_name = json.loads(attributes["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"].rsplit(":", 1)[-1]
    dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
    return [m["Body"] for m in sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])]
