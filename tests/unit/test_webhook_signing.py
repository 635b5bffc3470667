"""Webhook signatures: what is accepted, and that every refusal says exactly what is wrong."""
from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import BadSignature
from chalicelib.webhooks import signing

SECRET = "whsec_test-secret-0123456789abcdefghijklmnopqrstuv"
BODY = b'{"records": [{"ts": "2024-05-01T10:00:00Z", "product_id": "SKU-1", "amount": 9.5}]}'
NOW = 1_717_171_717


def headers(signature: str, timestamp: int = NOW, key_id: str = "whk_0123456789abcdef0123") -> dict[str, str]:
    return {"X-SalesLens-Key-Id": key_id, "X-SalesLens-Timestamp": str(timestamp), "X-SalesLens-Signature": signature}


def test_sign_is_hex_hmac_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signing.sign(SECRET, BODY, NOW) == f"v1={expected}"
    assert signing.sign(SECRET, BODY.decode(), NOW) == signing.sign(SECRET, BODY, NOW)


def test_a_good_signature_verifies_whatever_the_header_case():
    raw = headers(signing.sign(SECRET, BODY, NOW))
    signed = signing.read_headers({k.lower(): v for k, v in raw.items()})
    assert signed.timestamp == NOW and signed.key_id.startswith("whk_")
    signing.check_timestamp(signed.timestamp, NOW + 10)
    signing.verify(signed, BODY, [SECRET])


def test_either_the_current_or_the_previous_secret_verifies():
    signed = signing.read_headers(headers(signing.sign("whsec_old-secret-aaaaaaaaaaaa", BODY, NOW)))
    signing.verify(signed, BODY, [SECRET, "whsec_old-secret-aaaaaaaaaaaa"])
    with pytest.raises(BadSignature, match="mismatch"):
        signing.verify(signed, BODY, [SECRET])


def test_several_signatures_in_one_header_any_may_match():
    value = f"v1={'0' * 64}, {signing.sign(SECRET, BODY, NOW)}"
    signing.verify(signing.read_headers(headers(value)), BODY, [SECRET])


@pytest.mark.parametrize("missing", ["X-SalesLens-Key-Id", "X-SalesLens-Timestamp", "X-SalesLens-Signature"])
def test_each_missing_header_is_named(missing):
    raw = headers(signing.sign(SECRET, BODY, NOW))
    del raw[missing]
    with pytest.raises(BadSignature, match=f"Missing header {missing}") as caught:
        signing.read_headers(raw)
    assert caught.value.status == 401 and caught.value.code == "bad_signature"


@pytest.mark.parametrize("value", ["sha256=abc", "v1=xyz", "v1=" + "a" * 63, ""])
def test_malformed_signature_header(value):
    raw = headers(value)
    with pytest.raises(BadSignature):
        signing.read_headers(raw)


def test_timestamp_must_be_whole_seconds():
    with pytest.raises(BadSignature, match="unix time"):
        signing.read_headers(headers(signing.sign(SECRET, BODY, NOW), timestamp="2024-05-01"))  # type: ignore[arg-type]


def test_stale_and_future_timestamps_are_refused_with_the_reason():
    with pytest.raises(BadSignature, match="360 seconds old"):
        signing.check_timestamp(NOW - 360, NOW)
    with pytest.raises(BadSignature, match="in the future"):
        signing.check_timestamp(NOW + 400, NOW)
    signing.check_timestamp(NOW - 300, NOW)
    signing.check_timestamp(NOW + 300, NOW)


def test_a_changed_body_or_timestamp_breaks_the_signature():
    signature = signing.sign(SECRET, BODY, NOW)
    with pytest.raises(BadSignature, match="mismatch"):
        signing.verify(signing.read_headers(headers(signature)), BODY + b" ", [SECRET])
    with pytest.raises(BadSignature, match="mismatch"):
        signing.verify(signing.read_headers(headers(signature, NOW + 1)), BODY, [SECRET])


def test_shopify_hmac_is_base64_of_the_body_hmac():
    value = signing.sign_shopify(SECRET, BODY)
    signing.verify_shopify(value, BODY, ["whsec_other-secret-bbbbbbbbbb", SECRET])
    with pytest.raises(BadSignature, match="mismatch"):
        signing.verify_shopify(value, BODY, ["whsec_other-secret-bbbbbbbbbb"])
    with pytest.raises(BadSignature, match="Missing header X-Shopify-Hmac-Sha256"):
        signing.verify_shopify("", BODY, [SECRET])
    with pytest.raises(BadSignature, match="not base64"):
        signing.verify_shopify("%%%not-base64%%%", BODY, [SECRET])


@given(body=st.binary(max_size=512), timestamp=st.integers(min_value=0, max_value=2**40))
def test_sign_then_verify_round_trips(body, timestamp):
    signed = signing.read_headers(headers(signing.sign(SECRET, body, timestamp), timestamp))
    signing.verify(signed, body, [SECRET])


def test_idempotency_derives_from_exactly_what_is_signed():
    from chalicelib.errors import ValidationFailed
    from chalicelib.webhooks.idempotency import check_key, content_key

    signed = signing.signed_string(NOW, BODY)
    assert signed == f"{NOW}.".encode() + BODY
    assert signing.sign(SECRET, BODY, NOW) == "v1=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    key = content_key("records", signed)
    assert key == content_key("records", signing.signed_string(NOW, BODY))
    assert len({key, content_key("records", signing.signed_string(NOW + 1, BODY)),
                content_key("records", signing.signed_string(NOW, BODY + b" ")), content_key("shopify", signed)}) == 4
    with pytest.raises(ValidationFailed):  # no client key can ever name a content claim
        check_key(key, "Idempotency-Key")
