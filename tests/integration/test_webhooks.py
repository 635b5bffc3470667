"""The webhook door end to end on moto: keys, signatures, rotation, idempotency, Shopify, isolation, buffer."""
from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile

import boto3
import pytest

from chalicelib import services
from chalicelib.lake import layout
from chalicelib.webhooks import signing
from chalicelib.webhooks.buffer import buffer_context
from tests.unit.test_webhook_adapters import ORDER

RECORDS = {"records": [
    {"order_id": "A-1", "ts": "2024-05-01T10:00:00Z", "product_id": "SKU-1", "quantity": 2, "unit_price": 10,
     "amount": 20, "customer_id": "C-1", "channel": "store"},
    {"order_id": "A-1", "ts": "2024-05-01T10:00:00Z", "product_name": "Bell", "quantity": 1, "amount": "4.5"},
]}


def body_of(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def post_records(api, key_id: str, secret: str, payload: object = RECORDS, timestamp: float | None = None,
                 idempotency_key: str | None = None, raw: bytes | None = None, **extra: str):
    body = raw if raw is not None else body_of(payload)
    ts = int(services.webhooks().clock() if timestamp is None else timestamp)
    headers = {"X-SalesLens-Key-Id": key_id, "X-SalesLens-Timestamp": str(ts),
               "X-SalesLens-Signature": signing.sign(secret, body, ts),
               "Idempotency-Key": idempotency_key or uuid.uuid4().hex, **extra}
    return api.call("POST", "/v1/ingest/records", raw=body, headers=headers)


def new_key(api, token: str, name: str = "Till 1", **body: str) -> dict:
    response = api.call("POST", "/webhook-secrets", {"name": name, **body}, token=token)
    assert response.status_code == 201, response.data
    return response.data


def refusal(response) -> str:
    assert response.status_code == 401, response.data
    assert response.data["error"]["code"] == "bad_signature"
    return response.data["error"]["message"]


@pytest.fixture
def owner(api) -> str:
    return api.register("ada@acme.example")


@pytest.fixture
def key(api, owner) -> dict:
    return new_key(api, owner)


def test_the_secret_is_shown_once_and_never_listed(api, owner, key):
    assert key["secret"].startswith("whsec_") and len(key["secret"]) > 40 and key["key_id"].startswith("whk_")
    assert key["name"] == "Till 1" and key["created_at"]
    listed = api.call("GET", "/webhook-secrets", token=owner).data["keys"]
    assert [k["key_id"] for k in listed] == [key["key_id"]]
    assert "secret" not in listed[0] and key["secret"] not in json.dumps(listed)
    assert listed[0]["secret_hint"].endswith(key["secret"][-4:])
    events = [e["event"] for e in api.call("GET", "/audit", token=owner).data["events"]]
    assert "webhook_key_created" in events


def test_the_secret_is_stored_encrypted_under_the_tenant(api, owner, key):
    table = boto3.resource("dynamodb").Table(services.webhooks().keys._table)
    item = table.get_item(Key={"pk": f"WEBHOOKKEY#{key['key_id']}", "sk": "META"})["Item"]
    stored = table.get_item(Key={"pk": f"TENANT#{item['tenant_id']}", "sk": f"WEBHOOKKEY#{key['key_id']}"})["Item"]
    assert key["secret"] not in json.dumps(stored, default=str) and stored["hint"] == key["secret"][-4:]
    kms = boto3.client("kms")
    with pytest.raises(kms.exceptions.InvalidCiphertextException):  # bound to its tenant and key id
        kms.decrypt(CiphertextBlob=base64.b64decode(stored["secret_ct"]),
                    EncryptionContext={"tenant_id": "someone-else", "key_id": key["key_id"]})


def test_a_signed_batch_is_accepted_and_buffered(api, key):
    response = post_records(api, key["key_id"], key["secret"])
    assert response.status_code == 202, response.data
    assert response.data == {"accepted": 2, "buffered": True}
    tenant_id = services.webhooks().keys.live(key["key_id"]).tenant_id
    assert services.webhooks().buffer.pending(tenant_id)["rows"] == 2


def test_refusals_say_exactly_what_is_wrong(api, key):
    body = body_of(RECORDS)
    unsigned = api.call("POST", "/v1/ingest/records", raw=body, headers={"Idempotency-Key": "k1"})
    assert "Missing header X-SalesLens-Key-Id, X-SalesLens-Timestamp, X-SalesLens-Signature" in refusal(unsigned)
    assert "mismatch" in refusal(post_records(api, key["key_id"], "whsec_not-the-secret-xxxxxxxx"))
    now = time.time()
    assert "360 seconds old" in refusal(post_records(api, key["key_id"], key["secret"], timestamp=now - 360))
    assert "in the future" in refusal(post_records(api, key["key_id"], key["secret"], timestamp=now + 600))
    assert "Unknown key" in refusal(post_records(api, "whk_00000000000000000000", key["secret"]))
    assert "Unknown key" in refusal(post_records(api, "../TENANT#x", key["secret"]))
    ts = str(int(now))
    tampered = {"X-SalesLens-Key-Id": key["key_id"], "X-SalesLens-Timestamp": ts, "Idempotency-Key": "k2",
                "X-SalesLens-Signature": signing.sign(key["secret"], body, int(ts))}
    forged_body = body.replace(b'"amount":20', b'"amount":2000')
    assert "mismatch" in refusal(api.call("POST", "/v1/ingest/records", raw=forged_body, headers=tampered))
    assert api.call("POST", "/v1/ingest/records", raw=body, headers=tampered).status_code == 202


def test_a_revoked_key_stops_at_once(api, owner, key):
    assert post_records(api, key["key_id"], key["secret"]).status_code == 202
    assert api.call("DELETE", f"/webhook-secrets/{key['key_id']}", token=owner).status_code == 204
    assert "Unknown key" in refusal(post_records(api, key["key_id"], key["secret"]))
    assert api.call("GET", "/webhook-secrets", token=owner).data["keys"] == []
    assert api.call("DELETE", f"/webhook-secrets/{key['key_id']}", token=owner).status_code == 404


def test_rotation_keeps_the_old_secret_for_24_hours_only(api, owner, key):
    clock = services.webhooks().clock
    start = time.time()
    clock.pin(start)
    rotated = api.call("POST", f"/webhook-secrets/{key['key_id']}/rotate", token=owner)
    assert rotated.status_code == 200, rotated.data
    new_secret = rotated.data["secret"]
    assert new_secret != key["secret"] and rotated.data["previous_expires_at"]
    assert post_records(api, key["key_id"], key["secret"]).status_code == 202
    assert post_records(api, key["key_id"], new_secret).status_code == 202
    clock.pin(start + 23 * 3600)
    assert post_records(api, key["key_id"], key["secret"]).status_code == 202
    clock.pin(start + 24 * 3600 + 1)
    assert "mismatch" in refusal(post_records(api, key["key_id"], key["secret"]))
    assert post_records(api, key["key_id"], new_secret).status_code == 202
    listed = api.call("GET", "/webhook-secrets", token=owner).data["keys"][0]
    assert listed["previous_expires_at"] is None and listed["rotated_at"]
    events = [e["event"] for e in api.call("GET", "/audit", token=owner).data["events"]]
    assert "webhook_key_rotated" in events


def test_a_retry_gets_the_first_answer_and_a_changed_body_conflicts(api, key):
    first = post_records(api, key["key_id"], key["secret"], idempotency_key="delivery-42")
    retry = post_records(api, key["key_id"], key["secret"], idempotency_key="delivery-42")
    assert first.status_code == retry.status_code == 202 and retry.data == first.data
    assert retry.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    tenant_id = services.webhooks().keys.live(key["key_id"]).tenant_id
    assert services.webhooks().buffer.pending(tenant_id) == {**services.webhooks().buffer.pending(tenant_id),
                                                             "rows": 2, "objects": 1}
    changed = post_records(api, key["key_id"], key["secret"], {"records": RECORDS["records"][:1]},
                           idempotency_key="delivery-42")
    assert changed.status_code == 409 and changed.data["error"]["code"] == "idempotency_conflict"
    assert "different body" in changed.data["error"]["message"]
    missing = post_records(api, key["key_id"], key["secret"], idempotency_key=" ")
    assert missing.status_code == 400 and missing.data["error"]["code"] == "missing_idempotency_key"


def test_a_captured_delivery_replayed_with_fresh_keys_adds_no_rows(api, key):
    """The signature covers the timestamp and body, not the Idempotency-Key: the signed content is the identity."""
    hooks = services.webhooks()
    hooks.clock.pin(time.time())
    tenant_id = hooks.keys.live(key["key_id"]).tenant_id
    first = post_records(api, key["key_id"], key["secret"], idempotency_key="original")
    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    for attempt in range(3):
        replay = post_records(api, key["key_id"], key["secret"], idempotency_key=f"fresh-{attempt}")
        assert replay.status_code == 202 and replay.data == first.data
        assert replay.headers["Idempotent-Replayed"] == "true"
    assert hooks.buffer.pending(tenant_id)["rows"] == 2 and hooks.buffer.pending(tenant_id)["objects"] == 1
    assert len(_buffered_objects(tenant_id)) == 1

    other_body = post_records(api, key["key_id"], key["secret"], {"records": RECORDS["records"][:1]},
                              idempotency_key="fresh-3")  # same second, different body: a new delivery
    assert other_body.status_code == 202 and "Idempotent-Replayed" not in other_body.headers
    assert hooks.buffer.pending(tenant_id)["rows"] == 3 and len(_buffered_objects(tenant_id)) == 2


def test_a_retry_signed_again_later_with_the_same_key_is_still_a_retry(api, key):
    hooks = services.webhooks()
    start = time.time()
    hooks.clock.pin(start)
    tenant_id = hooks.keys.live(key["key_id"]).tenant_id
    first = post_records(api, key["key_id"], key["secret"], idempotency_key="delivery-9")
    hooks.clock.pin(start + 30)  # the sender retries 30 s later, signing with the new time as documented
    retry = post_records(api, key["key_id"], key["secret"], idempotency_key="delivery-9")
    assert retry.status_code == 202 and retry.data == first.data and retry.headers["Idempotent-Replayed"] == "true"
    replayed_retry = post_records(api, key["key_id"], key["secret"], idempotency_key="delivery-10")
    assert replayed_retry.headers["Idempotent-Replayed"] == "true"  # the retry's signed request is known too
    assert hooks.buffer.pending(tenant_id)["rows"] == 2 and len(_buffered_objects(tenant_id)) == 1
    changed = post_records(api, key["key_id"], key["secret"], {"records": RECORDS["records"][:1]},
                           idempotency_key="delivery-9")
    assert changed.status_code == 409 and changed.data["error"]["code"] == "idempotency_conflict"
    assert post_records(api, key["key_id"], key["secret"], {"records": RECORDS["records"][:1]},
                        idempotency_key="delivery-11").status_code == 202  # the refusal was not remembered


def _buffered_objects(tenant_id: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=services.webhooks().buffer._bucket,
                                                Prefix=layout.webhook_buffer_prefix(buffer_context(tenant_id)))
    return [o["Key"] for o in listed.get("Contents", [])]


def test_a_refused_batch_is_not_remembered_so_the_fixed_retry_goes_through(api, key):
    bad = {"records": [{**RECORDS["records"][0], "ts": "someday"}, RECORDS["records"][1]]}
    refused = post_records(api, key["key_id"], key["secret"], bad, idempotency_key="d-7")
    assert refused.status_code == 422 and refused.data["error"]["details"][0] == {
        "record": 0, "field": "ts", "problem": refused.data["error"]["details"][0]["problem"]}
    assert post_records(api, key["key_id"], key["secret"], idempotency_key="d-7").status_code == 202


def test_body_errors(api, key):
    assert post_records(api, key["key_id"], key["secret"], raw=b"{not json").data["error"]["code"] == "bad_json"
    too_many = post_records(api, key["key_id"], key["secret"], {"records": RECORDS["records"][:1] * 1001})
    assert too_many.status_code == 413 and "split" in too_many.data["error"]["message"].lower()
    wrong_type = post_records(api, key["key_id"], key["secret"], **{"Content-Type": "text/csv"})
    assert wrong_type.status_code == 415 and wrong_type.data["error"]["code"] == "unsupported_media_type"


def test_shopify_native_hmac(api, owner):
    shopify_secret = "shpss_" + "9f" * 16  # Shopify shows its signing secret; the tenant imports it
    key = new_key(api, owner, "Shopify", secret=shopify_secret)
    body = body_of(ORDER)
    headers = {"X-Shopify-Hmac-Sha256": signing.sign_shopify(shopify_secret, body),
               "X-Shopify-Topic": "orders/paid", "X-Shopify-Webhook-Id": str(uuid.uuid4()),
               "X-Shopify-Shop-Domain": "acme.myshopify.com"}
    path = f"/v1/ingest/shopify/orders?key={key['key_id']}"
    accepted = api.call("POST", path, raw=body, headers=headers)
    assert accepted.status_code == 202 and accepted.data == {"accepted": 2, "buffered": True}
    assert api.call("POST", path, raw=body, headers=headers).headers["Idempotent-Replayed"] == "true"
    fresh_id = {**headers, "X-Shopify-Webhook-Id": str(uuid.uuid4())}  # a replay under a new (unsigned) id
    replay = api.call("POST", path, raw=body, headers=fresh_id)
    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
    assert services.webhooks().buffer.pending(services.webhooks().keys.live(key["key_id"]).tenant_id)["rows"] == 2
    forged = {**headers, "X-Shopify-Hmac-Sha256": signing.sign_shopify("whsec_guess-guess-guess", body)}
    assert "mismatch" in refusal(api.call("POST", path, raw=body, headers=forged))
    assert "?key=" in refusal(api.call("POST", "/v1/ingest/shopify/orders", raw=body, headers=headers))


def test_tenants_are_isolated_and_viewers_cannot_manage_keys(api, owner, key):
    other_owner = api.register("bob@bolt.example", company="Bolt Cars")
    other_key = new_key(api, other_owner, "Bolt POS")
    assert "mismatch" in refusal(post_records(api, other_key["key_id"], key["secret"]))
    assert api.call("DELETE", f"/webhook-secrets/{other_key['key_id']}", token=owner).status_code == 404
    assert api.call("POST", f"/webhook-secrets/{other_key['key_id']}/rotate", token=owner).status_code == 404
    assert post_records(api, other_key["key_id"], other_key["secret"]).status_code == 202
    assert [k["key_id"] for k in api.call("GET", "/webhook-secrets", token=other_owner).data["keys"]] == [
        other_key["key_id"]]
    _, viewer = api.join(owner, "vic@acme.example", "viewer")
    for method, path, body in [("POST", "/webhook-secrets", {"name": "x"}), ("GET", "/webhook-secrets", None),
                               ("DELETE", f"/webhook-secrets/{key['key_id']}", None)]:
        assert api.call(method, path, body, token=viewer).status_code == 403
    _, admin = api.join(owner, "adam@acme.example", "admin")
    assert api.call("GET", "/webhook-secrets", token=admin).status_code == 200


class FakeSink:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, object, str]] = []
        self.fail = fail

    def __call__(self, ctx, frame, source):
        if self.fail:
            raise RuntimeError("lake unavailable")
        self.calls.append((ctx.tenant_id, frame, source))
        return {"batch_id": "b1", "rows": len(frame)}


def test_two_posts_reach_the_sink_in_one_flush(api, key):
    hooks = services.webhooks()
    start = time.time()
    hooks.clock.pin(start)
    assert post_records(api, key["key_id"], key["secret"]).status_code == 202
    second = {"records": [{**RECORDS["records"][0], "order_id": "A-2", "coupon": "SPRING"}]}
    assert post_records(api, key["key_id"], key["secret"], second).status_code == 202
    sink = FakeSink()
    assert hooks.buffer.flush_due(sink) == []  # 2 rows, seconds old: not due yet
    hooks.clock.pin(start + 61)
    [result] = hooks.buffer.flush_due(sink)
    assert result["flushed"] and result["rows"] == 3 and result["objects"] == 2
    [(tenant_id, frame, source)] = sink.calls
    assert source == "webhook" and sorted(frame.order_id) == ["A-1", "A-1", "A-2"]
    assert list(frame.coupon).count("SPRING") == 1 and all(isinstance(v, str) for v in frame.to_numpy().ravel())
    assert hooks.buffer.pending(tenant_id) == {"rows": 0, "objects": 0, "oldest_at": 0}
    assert hooks.buffer.flush_due(sink) == [] and len(sink.calls) == 1


def test_a_failing_sink_leaves_everything_pending(api, key):
    hooks = services.webhooks()
    assert post_records(api, key["key_id"], key["secret"]).status_code == 202
    tenant_id = hooks.keys.live(key["key_id"]).tenant_id
    ctx = buffer_context(tenant_id)
    s3, bucket = boto3.client("s3"), hooks.buffer._bucket
    [pending] = s3.list_objects_v2(Bucket=bucket, Prefix=f"tenants/{tenant_id}/buffer/webhooks/")["Contents"]
    assert s3.head_object(Bucket=bucket, Key=pending["Key"])["ServerSideEncryption"] == "aws:kms"
    with pytest.raises(RuntimeError):
        hooks.buffer.flush(ctx, FakeSink(fail=True), force=True)
    assert s3.list_objects_v2(Bucket=bucket, Prefix=pending["Key"])["KeyCount"] == 1
    assert hooks.buffer.pending(tenant_id)["rows"] == 2
    hooks.clock.pin(time.time() + 120)
    [failed] = hooks.buffer.flush_due(FakeSink(fail=True))
    assert failed == {"tenant_id": tenant_id, "flushed": False, "error": "RuntimeError"}
    sink = FakeSink()
    assert hooks.buffer.flush(ctx, sink)["rows"] == 2 and len(sink.calls[0][1]) == 2
    assert hooks.buffer.pending(tenant_id)["rows"] == 0


def test_two_concurrent_deliveries_with_one_key_cannot_both_be_accepted(api, key):
    from chalicelib.errors import DeliveryInProgress
    from chalicelib.webhooks.idempotency import TTL_SECONDS

    store, tenant_id = services.webhooks().idempotency, services.webhooks().keys.live(key["key_id"]).tenant_id
    assert store.claim(tenant_id, "same-key", "hash-a") is None
    with pytest.raises(DeliveryInProgress):  # the first is still being processed
        store.claim(tenant_id, "same-key", "hash-a")
    store.complete(tenant_id, "same-key", 202, {"accepted": 1, "buffered": True})
    assert store.claim(tenant_id, "same-key", "hash-a").body == {"accepted": 1, "buffered": True}
    item = boto3.resource("dynamodb").Table(services.webhooks().keys._table).get_item(
        Key={"pk": f"TENANT#{tenant_id}", "sk": "IDEMP#same-key"})["Item"]
    assert abs(int(item["expires_at"]) - time.time() - TTL_SECONDS) < 60 and item["state"] == "done"


def test_a_company_export_still_works_and_holds_no_plain_secret(api, owner, key):
    assert post_records(api, key["key_id"], key["secret"]).status_code == 202
    export = api.call("POST", "/tenant/export", token=owner)
    assert export.status_code == 200, export.data
    tenant_id = services.webhooks().keys.live(key["key_id"]).tenant_id
    archive_key = layout.export_key(buffer_context(tenant_id), export.data["export_id"])
    archive = boto3.client("s3").get_object(Bucket=services.webhooks().buffer._bucket, Key=archive_key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        records = files.read("metadata/records.jsonl").decode()
    assert key["key_id"] in records and key["secret"] not in records
