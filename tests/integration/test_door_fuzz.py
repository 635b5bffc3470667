"""The other doors, fuzzed: signed webhooks and the S3 inbox refuse what is hostile or broken with a clear 4xx or
a ``failed`` upload, recorded where the company sees it; never a 500, a worker crash or a message left cycling."""
from __future__ import annotations

import codecs
import functools
import gzip
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import errors, services
from chalicelib.ingest.limits import MAX_COLUMNS, ReadBounds
from chalicelib.ingest.readers import open_table
from chalicelib.webhooks import signing
from chalicelib.webhooks.intake import MAX_BODY_BYTES
from tests.integration.conftest import Api
from tests.integration.test_upload_failures import _parked, _pending
from tests.integration.test_uploads import drain, lake_api  # noqa: F401 - the fixture is used by name
from tests.integration.test_webhooks import RECORDS, body_of, key, owner  # noqa: F401 - fixtures used by name
from tests.unit.test_readers import FIXTURES, zipped
from tests.unit.test_webhook_adapters import ORDER

FUZZ = settings(max_examples=50, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# -- webhooks ---------------------------------------------------------------------------------------------------
DEEP = b"[" * 10_000 + b"]" * 10_000
HOSTILE_BODIES: dict[str, bytes] = {
    "deep": DEEP,
    "deep in records": b'{"records": ' + DEEP + b"}",
    "huge": b'{"records": ["' + b"x" * MAX_BODY_BYTES + b'"]}',
    "latin-1": json.dumps({"records": [{"ts": "2024-05-01", "product_name": "Crème brûlée", "amount": 1}]},
                          ensure_ascii=False).encode("latin-1"),
    "utf-16 with BOM": body_of(RECORDS).decode().encode("utf-16"),
    "utf-16 without BOM": body_of(RECORDS).decode().encode("utf-16-le"),
    "lone surrogate escape": b'{"records": [{"ts": "2024-05-01", "product_name": "Tent", "amount": 1, '
                             b'"coupon": "\\ud800"}]}',
    "lone surrogate bytes": b'{"records": [{"ts": "2024-05-01", "product_name": "\xed\xa0\x80", "amount": 1}]}',
    "not json": b"order_id,ts\nA-1,2024-05-01\n",
    "truncated json": body_of(RECORDS)[:-7],
    "a list": b'[{"ts": "2024-05-01"}]',
    "a string": b'"records"',
    "null": b"null",
    "records not a list": b'{"records": {"ts": "2024-05-01"}}',
    "records of numbers": b'{"records": [1, 2, 3]}',
    "an unknown field": b'{"records": [], "tenant_id": "someone-else"}',
    "a nested extra": b'{"records": [{"ts": "2024-05-01", "product_name": "Tent", "amount": 1, "x": {"y": 1}}]}',
    "a huge price": json.dumps({**ORDER, "line_items": [{**ORDER["line_items"][0], "price": "1e999999999"}]}).encode(),
    "a tiny price": json.dumps({**ORDER, "line_items": [{**ORDER["line_items"][0], "price": "1e-999999999"}]}).encode(),
    "a NaN price": json.dumps({**ORDER, "line_items": [{**ORDER["line_items"][0], "price": "NaN"}]}).encode(),
    "empty": b"",
}
SIGNATURE_FAULTS = ["no key id", "no timestamp", "no signature", "truncated signature", "wrong secret",
                    "not v1", "old timestamp", "future timestamp", "signed another body", "unknown key"]


def pending_rows(tenant_id: str) -> int:
    return services.webhooks().buffer.pending(tenant_id)["rows"]


def refusals(api: Api, token: str) -> dict[str, Any]:
    [listed] = api.call("GET", "/webhook-secrets", token=token).data["keys"]
    return listed["refusals"] or {"count": 0}


def assert_refused(response: Any, fault: str) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (fault, response.status_code, response.data)
    error = response.data["error"]
    assert error["code"] and len(error["message"]) > 20, (fault, error)
    return error


def signed_headers(hook: dict[str, Any], body: bytes, fault: str | None, cut: int, skew: int) -> dict[str, str]:
    now = int(services.webhooks().clock())
    stamp = now - 301 - skew if fault == "old timestamp" else now + 301 + skew if fault == "future timestamp" else now
    signed_body = body + b" " if fault == "signed another body" else body
    secret = "whsec_" + "w" * 43 if fault == "wrong secret" else hook["secret"]
    signature = signing.sign(secret, signed_body, stamp)
    headers = {signing.KEY_ID_HEADER: "whk_" + "0" * 20 if fault == "unknown key" else hook["key_id"],
               signing.TIMESTAMP_HEADER: str(stamp), signing.SIGNATURE_HEADER: signature,
               "Idempotency-Key": uuid.uuid4().hex}
    if fault == "truncated signature":
        headers[signing.SIGNATURE_HEADER] = signature[:max(3, len(signature) - 1 - cut)]
    elif fault == "not v1":
        headers[signing.SIGNATURE_HEADER] = "v2=" + signature[3:]
    for name, missing in ((signing.KEY_ID_HEADER, "no key id"), (signing.TIMESTAMP_HEADER, "no timestamp"),
                          (signing.SIGNATURE_HEADER, "no signature")):
        if fault == missing:
            del headers[name]
    return headers


@pytest.fixture
def tenant(api: Api, key: dict[str, Any]) -> str:  # noqa: F811 - the imported fixture, by name
    return services.webhooks().keys.live(key["key_id"]).tenant_id


@FUZZ
@given(fault=st.sampled_from([*SIGNATURE_FAULTS, *HOSTILE_BODIES]), cut=st.integers(0, 60), skew=st.integers(0, 10**6))
def test_records_refuses_every_mutated_delivery(api: Api, owner: str, key: dict[str, Any], tenant: str,  # noqa: F811
                                                fault: str, cut: int, skew: int) -> None:
    body = HOSTILE_BODIES.get(fault, body_of(RECORDS))
    before = refusals(api, owner)["count"]
    response = api.call("POST", "/v1/ingest/records", raw=body,
                        headers=signed_headers(key, body, None if fault in HOSTILE_BODIES else fault, cut, skew))
    error = assert_refused(response, fault)
    assert pending_rows(tenant) == 0
    seen = refusals(api, owner)
    if fault in ("no key id", "unknown key"):  # no company to tell: the request log only
        assert seen["count"] == before
    else:
        assert seen["count"] == before + 1 and seen["last_code"] == error["code"], (fault, seen, error)
        assert seen["last_message"] == error["message"][:500] and seen["last_status"] == response.status_code


SHOPIFY_SECRET = "shpss_" + "9f" * 16


@pytest.fixture
def shop_key(api: Api, owner: str) -> dict[str, Any]:  # noqa: F811
    created = api.call("POST", "/webhook-secrets", {"name": "Shopify", "secret": SHOPIFY_SECRET}, token=owner)
    assert created.status_code == 201, created.data
    return created.data


@FUZZ
@given(fault=st.sampled_from(["no hmac", "hmac not base64", "wrong secret", "signed another body", "unknown key",
                              "no key", *HOSTILE_BODIES]), noise=st.binary(min_size=1, max_size=40))
def test_shopify_refuses_every_mutated_delivery(api: Api, owner: str, shop_key: dict[str, Any],  # noqa: F811
                                                fault: str, noise: bytes) -> None:
    shopify_secret = SHOPIFY_SECRET
    tenant_id = services.webhooks().keys.live(shop_key["key_id"]).tenant_id
    body = HOSTILE_BODIES.get(fault, body_of(ORDER))
    hmac = signing.sign_shopify("whsec_guess-guess-guess" if fault == "wrong secret" else shopify_secret,
                                body + noise if fault == "signed another body" else body)
    headers = {signing.SHOPIFY_HMAC_HEADER: hmac, "X-Shopify-Topic": "orders/paid",
               "X-Shopify-Webhook-Id": str(uuid.uuid4())}
    if fault == "no hmac":
        del headers[signing.SHOPIFY_HMAC_HEADER]
    elif fault == "hmac not base64":
        headers[signing.SHOPIFY_HMAC_HEADER] = noise.hex() + "!"
    key_id = {"unknown key": "whk_" + "0" * 20, "no key": ""}.get(fault, shop_key["key_id"])
    before = refusals(api, owner)["count"]
    response = api.call("POST", f"/v1/ingest/shopify/orders?key={key_id}" if key_id else "/v1/ingest/shopify/orders",
                        raw=body, headers=headers)
    error = assert_refused(response, fault)
    assert pending_rows(tenant_id) == 0
    seen = refusals(api, owner)
    assert seen["count"] == before + (0 if fault in ("unknown key", "no key") else 1), (fault, seen)
    if fault not in ("unknown key", "no key"):
        assert seen["last_code"] == error["code"]


def refusals_of(api: Api, token: str, key_id: str) -> dict[str, Any]:
    keys = api.call("GET", "/webhook-secrets", token=token).data["keys"]
    return next(k for k in keys if k["key_id"] == key_id)["refusals"] or {"count": 0}


def test_a_refusal_is_shown_to_the_owner_and_a_good_delivery_still_goes_through(api: Api, owner: str,  # noqa: F811
                                                                               key: dict[str, Any]) -> None:  # noqa: F811
    body = HOSTILE_BODIES["lone surrogate escape"]
    response = api.call("POST", "/v1/ingest/records", raw=body, headers=signed_headers(key, body, None, 0, 0))
    assert response.status_code == 400 and "surrogate" in response.data["error"]["message"]
    [listed] = api.call("GET", "/webhook-secrets", token=owner).data["keys"]
    assert listed["refusals"]["count"] == 1 and listed["refusals"]["last_code"] == "bad_json"
    assert listed["refusals"]["last_at"] and "surrogate" in listed["refusals"]["last_message"]
    good = body_of(RECORDS)
    assert api.call("POST", "/v1/ingest/records", raw=good,
                    headers=signed_headers(key, good, None, 0, 0)).status_code == 202


# -- the S3 inbox ---------------------------------------------------------------------------------------------
BOMB_BYTES = 200 * 1024 * 1024


def _rows(total: int) -> Iterator[bytes]:
    yield b"order_id,amount\n"
    block = b"1,2\n" * (1 << 18)  # 1 MiB
    for _ in range(total // len(block)):
        yield block


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("sales.csv", "w") as member:
        for block in _rows(BOMB_BYTES):
            member.write(block)
    return out.getvalue()


@functools.lru_cache(maxsize=1)
def _gzipped_rows() -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb") as packed:
        for block in _rows(BOMB_BYTES):
            packed.write(block)
    return out.getvalue()


def gzip_bomb(lie: bool = False) -> bytes:
    data = _gzipped_rows()
    return data[:-4] + (100).to_bytes(4, "little") if lie else data  # the trailer claims 100 bytes


def drops() -> dict[str, tuple[bytes, tuple[str, ...]]]:
    """File name → (content, words its upload's error message must hold)."""
    return {
        "photo.csv": ((FIXTURES / "not_a_table.png").read_bytes(), ("PNG", "not a table")),
        "zipped-photo.csv": (zipped({"photo.png": (FIXTURES / "not_a_table.png").read_bytes()}), ("PNG",)),
        "binary.csv": (bytes(range(256)) * 64, ("binary",)),
        "bomb.zip": (zip_bomb(), ("decompression bomb", "expands at most 100×")),
        "bomb.csv.gz": (gzip_bomb(), ("decompression bomb", "expands at most 100×")),
        "wide.csv": (",".join(f"c{n}" for n in range(10_000)).encode() + b"\n" + b",".join([b"1"] * 10_000) + b"\n",
                     (f"10,000 columns; SalesLens reads at most {MAX_COLUMNS:,}",)),
        "one-line.csv": (b"order_id\n" + b"x" * (3 << 20), ("Line 2", "longer than 1,048,576 bytes")),
        "empty.csv": (b"", ("empty",)),
        "blank.csv": (b"\n\n  \n", ("empty",)),
        "header-only.csv": (b"order_id,ts,amount\n", ("no data rows",)),
    }


def test_hostile_inbox_drops_fail_their_upload_and_leave_no_message_behind(
        lake_api: Api, lake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    token = lake_api.register("ada@acme.example")
    tenant_id = lake_api.call("GET", "/me", token=token).data["tenant"]["tenant_id"]
    monkeypatch.setattr(services.ingestion(), "read_bounds", ReadBounds(max_line_bytes=1 << 20))
    s3, hostile = boto3.client("s3"), drops()
    for name, (content, _) in {**hostile, "workbook.csv": ((FIXTURES / "sales.xlsx").read_bytes(), ())}.items():
        s3.put_object(Bucket=lake_env["SL_DATA_BUCKET"], Key=f"drop/{tenant_id}/{name}", Body=content)
    drain(lake_env)

    uploads = {u["filename"]: u for u in lake_api.call("GET", "/uploads", token=token).data["uploads"]}
    found = {name: (uploads[name]["status"], all(w in (uploads[name].get("error") or {}).get("message", "")
                                                 for w in words)) for name, (_, words) in hostile.items()}
    assert found == {name: ("failed", True) for name in hostile}, {n: uploads[n].get("error") for n in hostile}
    assert all(uploads[name]["error"]["code"] != "ingest_failed" for name in hostile)  # each a user error, explained
    # content decides, not the name: a workbook saved as .csv is read as the workbook it is
    workbook = uploads["workbook.csv"]
    assert workbook["status"] in ("needs_mapping", "loaded") and workbook["format"] == "xlsx", workbook
    assert _pending(lake_env["SL_INGEST_QUEUE_URL"]) == 0 and _parked(lake_env) == []


# -- the reader's bounds, streamed ------------------------------------------------------------------------------
class Endless(io.RawIOBase):
    """A seekable file of ``size`` bytes made up as it is read (``head`` then ``fill``), counting what was read."""

    def __init__(self, head: bytes, fill: bytes, size: int) -> None:
        super().__init__()
        self.head, self.fill, self.size, self.position, self.read_bytes = head, fill, size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), self.size - self.position))
        start, head = self.position, self.head
        data = (head[start:start + count] + self.fill * (count // len(self.fill) + 1))[:count]
        buffer[:count] = data
        self.position += count
        self.read_bytes += count
        return count


@pytest.mark.parametrize(("head", "fill", "name"), [
    (b"order_id,amount\n1,", b"x", "one-gigabyte.csv"),           # a data line without end
    (b"order_id", b",x", "one-gigabyte-header.csv"),              # a header without end
    (b'{"order_id": "', b"x", "one-gigabyte.jsonl"),              # a JSON line without end
    (codecs.BOM_UTF16_LE + "a,b\n1,".encode("utf-16-le"), "x".encode("utf-16-le"), "utf16.csv"),
])
def test_a_gigabyte_line_is_refused_after_a_few_megabytes(head: bytes, fill: bytes, name: str) -> None:
    started = time.monotonic()
    endless = Endless(head, fill, 1 << 30)
    with pytest.raises(errors.SalesLensError) as caught:
        stream = open_table(endless, name, bounds=ReadBounds(max_line_bytes=1 << 20))
        for _ in stream.chunks:
            pass
    assert caught.value.code in ("line_too_long", "unreadable_file"), caught.value.message
    assert "longer than 1,048,576 bytes" in caught.value.message or "column" in caught.value.message
    assert endless.read_bytes < 8 << 20 and time.monotonic() - started < 10


def test_the_default_line_bound_also_stops_a_gigabyte_line_early() -> None:
    endless = Endless(b"order_id,amount\n1,", b"x", 1 << 30)
    with pytest.raises(errors.UnreadableFile) as caught:  # by our bound, or pyarrow's block size: whichever first
        open_table(endless, "sales.csv")
    assert caught.value.code == "line_too_long" and "row of a table" in caught.value.message
    assert endless.read_bytes < 40 << 20


def test_an_archive_that_lies_about_its_size_is_stopped_while_it_inflates() -> None:
    lying = gzip_bomb(lie=True)
    with pytest.raises(errors.FileTooLarge, match="inflates past") as caught:
        stream = open_table(io.BytesIO(lying), "sales.csv.gz", bounds=ReadBounds(expansion_floor=8 << 20))
        for _ in stream.chunks:
            pass
    assert caught.value.code == "archive_too_large" and "100×" in caught.value.message


def test_a_small_very_repetitive_export_is_not_a_bomb() -> None:
    content = b"order_id,amount\n" + b"1,2\n" * 250_000  # 1 MB, compresses 300×, under the floor
    stream = open_table(io.BytesIO(gzip.compress(content)), "sales.csv.gz")
    assert sum(len(chunk) for chunk in stream.chunks) == 250_000
