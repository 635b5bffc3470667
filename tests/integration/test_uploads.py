"""The portal and S3-inbox doors end to end against moto's server: presigned POST → S3 event →
mapping → load → quality report, plus the ways users get it wrong."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from infra.local import pump
from tests.integration.conftest import Api

RETAIL_CSV = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,01/12/2023 08:26,2.55,17850,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,01/12/2023 08:26,3.39,17850,United Kingdom\n"
    "536366,22633,HAND WARMER UNION JACK,6,01/12/2023 08:28,1.85,17850,United Kingdom\n"
    "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,01/12/2023 08:34,1.69,13047,United Kingdom\n"
    "C536379,D,Discount,-1,01/12/2023 09:41,27.50,14527,United Kingdom\n"
    "536380,22961,JAM MAKING SET PRINTED,24,13/12/2023 09:41,1.45,17809,France\n"
    "536381,22139,RETROSPOT TEA SET CERAMIC,2,not a date,4.25,15311,France\n"
    "536382,22139,RETROSPOT TEA SET CERAMIC,abc,14/12/2023 10:00,4.25,15311,France\n"
)


@pytest.fixture
def lake_api(lake_env: dict[str, str]) -> Iterator[Any]:
    from app import app
    from infra.local.gateway import test_client

    with test_client(app) as client:
        yield Api(client.http)


def drain(env: dict[str, str]) -> int:
    """Deliver every pending ingest message, as the local event pump does."""
    sqs = boto3.client("sqs")
    from chalicelib.ingest import events

    route = pump.Route("ingest", env["SL_INGEST_QUEUE_URL"], events.handle)
    event_pump = pump.EventPump(sqs, [route], wait_seconds=0)
    total = 0
    while (handled := event_pump.pump_once(route)) or _pending(sqs, route.queue_url):
        total += handled
    return total


def _pending(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def post_file(form: dict[str, Any], name: str, content: bytes) -> requests.Response:
    return requests.post(form["url"], data=form["fields"], files={"file": (name, content)}, timeout=30)


def upload(api: Api, env: dict[str, str], token: str, name: str, content: bytes) -> dict[str, Any]:
    created = api.call("POST", "/uploads", {"filename": name, "size": len(content)}, token=token)
    assert created.status_code == 201, created.data
    response = post_file(created.data["form"], name, content)
    assert response.status_code in (200, 201, 204), response.text
    drain(env)
    return api.call("GET", f"/uploads/{created.data['upload']['upload_id']}", token=token).data


def confirm(api: Api, env: dict[str, str], token: str, record: dict[str, Any],
            columns: dict[str, str] | None = None) -> dict[str, Any]:
    upload_id = record["upload_id"]
    chosen = columns or record["proposal"]["columns"]
    response = api.call("POST", f"/uploads/{upload_id}/mapping", {"columns": chosen}, token=token)
    assert response.status_code == 202, response.data
    drain(env)
    return api.call("GET", f"/uploads/{upload_id}", token=token).data


def test_portal_upload_maps_loads_and_reports_quality(lake_api: Api, lake_env: dict[str, str]) -> None:
    token = lake_api.register("ada@acme.example")
    record = upload(lake_api, lake_env, token, "online_retail.csv", RETAIL_CSV.encode())
    assert record["status"] == "needs_mapping", record
    assert record["proposal"]["columns"]["order_id"] == "InvoiceNo"
    assert record["proposal"]["columns"]["ts"] == "InvoiceDate"
    assert len(record["preview"]) == 5

    loaded = confirm(lake_api, lake_env, token, record)
    assert loaded["status"] == "loaded", loaded
    summary = loaded["summary"]
    assert summary["rows_read"] == 8
    assert summary["rows_accepted"] == 6 and summary["rows_rejected"] == 2
    assert summary["returns"] == 1
    assert summary["date_from"].startswith("2023-12-01") and summary["date_to"].startswith("2023-12-13")
    assert 0 <= loaded["quality"]["score"] <= 100 and loaded["quality"]["issues"]

    rejects_url = lake_api.call("GET", f"/uploads/{record['upload_id']}/rejects", token=token).data["url"]
    rows = list(csv.DictReader(io.StringIO(requests.get(rejects_url, timeout=30).text)))
    assert {r["row"] for r in rows} == {"8", "9"} and all(r["reason"] for r in rows)

    datasets = {d["dataset"]: d for d in lake_api.call("GET", "/datasets", token=token).data["datasets"]}
    assert datasets["transactions"]["rows"] == 6 and datasets["transactions"]["customers"] == 4
    assert datasets["transactions"]["currencies"] == []  # the file names no currency and the company set none
    assert "currencies" not in datasets["customers"]

    jobs = boto3.client("sqs").receive_message(QueueUrl=lake_env["SL_JOBS_QUEUE_URL"], MaxNumberOfMessages=10)
    kinds = [json.loads(m["Body"])["kind"] for m in jobs.get("Messages", [])]
    assert kinds == ["analyze_tenant"]


def test_the_datasets_listing_names_the_currencies_of_the_sales(lake_api: Api, lake_env: dict[str, str]) -> None:
    token = lake_api.register("ada@acme.example")
    content = ("order,date,product,qty,price,currency\n"
               "A1,2025-03-01,Tent,1,199.00,EUR\nA2,2025-03-02,Stove,2,45.50,€\n"
               "A3,2025-03-02,Lamp,1,12.00,eur\nA4,2025-03-03,Tent,1,210.00,USD\n")
    loaded = confirm(lake_api, lake_env, token, upload(lake_api, lake_env, token, "two-currencies.csv",
                                                       content.encode()))
    assert loaded["summary"]["rows_accepted"] == 4
    sales = next(d for d in lake_api.call("GET", "/datasets", token=token).data["datasets"]
                 if d["dataset"] == "transactions")
    assert sales["currencies"] == ["EUR", "USD"]  # most rows first; "€" and "eur" are EUR
    assert sales["revenue"] == 199.0 + 91.0 + 12.0 + 210.0


def test_the_datasets_listing_is_counted_once_per_lake_version(lake_api: Api, lake_env: dict[str, str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy Data page must not query the lake per request: the counts are kept per lake version, which every
    commit rewrites, so new data still shows at once."""
    from chalicelib import services

    token = lake_api.register("ada@acme.example")
    confirm(lake_api, lake_env, token, upload(lake_api, lake_env, token, "a.csv", RETAIL_CSV.encode()))
    engine = services.ingestion().engine
    queries: list[str] = []
    counted = engine.query
    monkeypatch.setattr(engine, "query", lambda ctx, sql, *rest: queries.append(sql) or counted(ctx, sql, *rest))

    def sales() -> dict[str, Any]:
        answer = lake_api.call("GET", "/datasets", token=token)
        assert answer.status_code == 200
        return next(d for d in answer.data["datasets"] if d["dataset"] == "transactions")

    first = sales()
    asked = len(queries)
    assert asked >= 2 and first["rows"] == 6
    assert [sales() for _ in range(5)] == [first] * 5 and len(queries) == asked  # no lake query on a repeat

    more = RETAIL_CSV.replace("536380,22961", "536390,22962").replace("13/12/2023", "15/12/2023")
    confirm(lake_api, lake_env, token, upload(lake_api, lake_env, token, "b.csv", more.encode()))
    assert sales()["rows"] == 7 and len(queries) > asked  # a commit changes the version: counted again


def test_reuploading_the_same_file_never_double_counts(lake_api: Api, lake_env: dict[str, str]) -> None:
    token = lake_api.register("ada@acme.example")
    first = confirm(lake_api, lake_env, token, upload(lake_api, lake_env, token, "a.csv", RETAIL_CSV.encode()))
    again = upload(lake_api, lake_env, token, "a-again.csv", RETAIL_CSV.encode())
    assert again["proposal"].get("saved") is True  # the confirmed mapping is remembered for this shape
    second = confirm(lake_api, lake_env, token, again)
    assert first["summary"]["rows_accepted"] == 6
    assert second["summary"]["rows_accepted"] == 0
    assert second["summary"]["duplicates_already_loaded"] == 6
    datasets = {d["dataset"]: d for d in lake_api.call("GET", "/datasets", token=token).data["datasets"]}
    assert datasets["transactions"]["rows"] == 6


def test_unreadable_and_oversized_files_get_clear_errors(lake_api: Api, lake_env: dict[str, str]) -> None:
    token = lake_api.register("ada@acme.example")
    png = upload(lake_api, lake_env, token, "photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert png["status"] == "failed" and png["error"]["code"] in ("unsupported_file", "unreadable_file")
    assert png["error"]["message"]
    empty = upload(lake_api, lake_env, token, "empty.csv", b"InvoiceNo,Quantity\n")
    assert empty["status"] == "failed" and empty["error"]["code"] == "unreadable_file"

    too_big = lake_api.call("POST", "/uploads", {"filename": "big.csv", "size": 5 * 2**30}, token=token)
    assert too_big.status_code == 413 and "limit" in too_big.data["error"]["message"]
    wrong_type = lake_api.call("POST", "/uploads", {"filename": "slides.pptx", "size": 10}, token=token)
    assert wrong_type.status_code == 415


def test_an_unusable_mapping_is_refused_with_reasons(lake_api: Api, lake_env: dict[str, str]) -> None:
    token = lake_api.register("ada@acme.example")
    record = upload(lake_api, lake_env, token, "a.csv", RETAIL_CSV.encode())
    response = lake_api.call("POST", f"/uploads/{record['upload_id']}/mapping",
                             {"columns": {"order_id": "InvoiceNo", "quantity": "Nope"}}, token=token)
    assert response.status_code == 422 or response.status_code == 400
    assert response.data["error"]["details"]


def test_files_dropped_in_the_inbox_are_ingested_automatically(lake_api: Api, lake_env: dict[str, str]) -> None:
    token = lake_api.register("ada@acme.example")
    tenant_id = lake_api.call("GET", "/me", token=token).data["tenant"]["tenant_id"]
    body = "order_id,ts,customer_id,product_name,quantity,unit_price\n1,2024-01-05,c1,Tent,1,199.0\n" \
           "2,2024-01-06,c2,Stove,2,49.5\n"
    boto3.client("s3").put_object(Bucket=lake_env["SL_DATA_BUCKET"], Key=f"drop/{tenant_id}/sales.csv",
                                  Body=body.encode())
    drain(lake_env)
    uploads = lake_api.call("GET", "/uploads", token=token).data["uploads"]
    assert [(u["source"], u["status"]) for u in uploads] == [("drop", "loaded")]
    assert uploads[0]["summary"]["rows_accepted"] == 2


def test_another_tenant_sees_none_of_it(lake_api: Api, lake_env: dict[str, str]) -> None:
    owner_a = lake_api.register("ada@acme.example")
    owner_b = lake_api.register("bob@globex.example", company="Globex")
    record = confirm(lake_api, lake_env, owner_a, upload(lake_api, lake_env, owner_a, "a.csv", RETAIL_CSV.encode()))
    upload_id = record["upload_id"]
    assert lake_api.call("GET", f"/uploads/{upload_id}", token=owner_b).status_code == 404
    assert lake_api.call("GET", f"/uploads/{upload_id}/rejects", token=owner_b).status_code == 404
    assert lake_api.call("POST", f"/uploads/{upload_id}/mapping", {"columns": {}}, token=owner_b).status_code == 404
    assert lake_api.call("GET", "/uploads", token=owner_b).data["uploads"] == []
    datasets = {d["dataset"]: d for d in lake_api.call("GET", "/datasets", token=owner_b).data["datasets"]}
    assert datasets["transactions"]["rows"] == 0


def test_viewers_cannot_upload(lake_api: Api, lake_env: dict[str, str]) -> None:
    owner = lake_api.register("ada@acme.example")
    _, viewer = lake_api.join(owner, "vic@acme.example", "viewer")
    assert lake_api.call("POST", "/uploads", {"filename": "a.csv", "size": 10}, token=viewer).status_code == 403
    assert lake_api.call("GET", "/uploads", token=viewer).status_code == 200


def test_manual_entry_and_csv_template(lake_api: Api, lake_env: dict[str, str]) -> None:
    token = lake_api.register("ada@acme.example")
    sale = {"ts": "2026-01-31 14:05", "product_name": "Trail helmet", "quantity": 2, "unit_price": "49.90",
            "customer_id": "C-1"}
    created = lake_api.call("POST", "/transactions", sale, token=token)
    assert created.status_code == 201, created.data
    assert lake_api.call("POST", "/transactions", sale, token=token).status_code == 409
    bad = lake_api.call("POST", "/transactions", {**sale, "ts": "31 Febtember"}, token=token)
    assert bad.status_code == 400 and bad.data["error"]["details"]
    template = lake_api.http.request("GET", "/templates/transactions.csv", headers={}, body=b"")
    assert template.status_code == 200
    assert template.body.decode().splitlines()[0].startswith("order_id,ts,customer_id")


def test_webhook_records_reach_the_lake_as_one_micro_batch(lake_api: Api, lake_env: dict[str, str]) -> None:
    from chalicelib import services
    from chalicelib.lake.batches import list_batches
    from chalicelib.webhooks import signing
    from chalicelib.webhooks.buffer import buffer_context

    token = lake_api.register("ada@acme.example")
    tenant_id = lake_api.call("GET", "/me", token=token).data["tenant"]["tenant_id"]
    key = lake_api.call("POST", "/webhook-secrets", {"name": "till"}, token=token).data
    for call in range(2):
        records = [{"order_id": f"W{call}-{n}", "ts": "2026-01-05T10:00:00Z", "product_name": "Tent",
                    "quantity": 1, "unit_price": 199.0, "customer_id": f"c{n}"} for n in range(3)]
        body = json.dumps({"records": records}).encode()
        stamp = int(services.webhooks().clock())
        response = lake_api.call("POST", "/v1/ingest/records", raw=body, headers={
            "X-SalesLens-Key-Id": key["key_id"], "X-SalesLens-Timestamp": str(stamp),
            "X-SalesLens-Signature": signing.sign(key["secret"], body, stamp), "Idempotency-Key": f"call-{call}"})
        assert response.status_code == 202, response.data

    ctx = buffer_context(tenant_id)
    flushed = services.webhooks().buffer.flush(ctx, services.ingestion().ingest_records, force=True)
    assert flushed["flushed"] and flushed["rows"] == 6
    assert len(list_batches(boto3.client("s3"), lake_env["SL_DATA_BUCKET"], ctx, "transactions")) == 1
    datasets = {d["dataset"]: d for d in lake_api.call("GET", "/datasets", token=token).data["datasets"]}
    assert datasets["transactions"]["rows"] == 6
