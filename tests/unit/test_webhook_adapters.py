"""Webhook payloads → canonical text rows: the generic schema and Shopify's order webhook."""
from __future__ import annotations

import copy

import pytest

from chalicelib import errors
from chalicelib.errors import InvalidRecords, TooManyRecords, UnsupportedTopic
from chalicelib.ingest.schema import TRANSACTIONS
from chalicelib.webhooks import adapters


def record(**changes):
    base = {"order_id": "A-1001", "ts": "2024-05-01T10:15:00Z", "customer_id": "C-7", "product_id": "SKU-1",
            "product_name": "Trail helmet", "category": "Helmets", "quantity": 2, "unit_price": 49.5,
            "amount": "99.00", "region": "DE", "channel": "store", "currency": "eur"}
    return {**base, **changes}


def test_a_good_batch_becomes_text_rows_with_every_canonical_column_and_extras_kept():
    rows = adapters.generic_records({"records": [record(), record(order_id=1002, store_no=12, gift=True),
                                                 {"ts": 1714558500, "product_name": "Bell", "unit_price": "5"}]})
    assert list(rows.columns[:len(TRANSACTIONS.column_names)]) == list(TRANSACTIONS.column_names)
    assert list(rows.columns[len(TRANSACTIONS.column_names):]) == ["store_no", "gift"]
    assert all(isinstance(v, str) for v in rows.to_numpy().ravel())
    first = rows.iloc[0]
    assert (first.quantity, first.unit_price, first.amount, first.currency) == ("2", "49.5", "99.00", "EUR")
    assert rows.iloc[1].order_id == "1002" and rows.iloc[1].store_no == "12" and rows.iloc[1].gift == "true"
    assert rows.iloc[2].ts == "2024-05-01T10:15:00+00:00" and rows.iloc[2].customer_id == ""
    assert rows.iloc[0].store_no == ""


def test_1001_records_is_too_many_and_says_to_split():
    with pytest.raises(TooManyRecords, match="1001 records; the limit is 1000") as caught:
        adapters.generic_records({"records": [record()] * 1001})
    assert caught.value.status == 413
    assert len(adapters.generic_records({"records": [record()] * 1000})) == 1000


def test_bad_records_are_reported_one_by_one_and_none_is_accepted():
    batch = [record(), record(ts="yesterday"), record(quantity="two", unit_price=True), "not an object",
             record(amount=None, unit_price=None), record(product_id=None, product_name=None),
             record(is_return=True), record(nested={"a": 1}), {k: v for k, v in record().items() if k != "ts"}]
    with pytest.raises(InvalidRecords) as caught:
        adapters.generic_records({"records": batch})
    assert caught.value.status == 422 and "8 of 9 records" in caught.value.message
    found = {(d["record"], d["field"]) for d in caught.value.details}
    assert found == {(1, "ts"), (2, "quantity"), (2, "unit_price"), (3, "record"), (4, "amount/unit_price"),
                     (5, "product_id/product_name"), (6, "is_return"), (7, "nested"), (8, "ts")}
    problems = {(d["record"], d["field"]): d["problem"] for d in caught.value.details}
    assert "ISO 8601" in problems[(1, "ts")] and problems[(8, "ts")] == "is required"


@pytest.mark.parametrize("payload", [[], {"records": []}, {"records": "x"}, {"rows": [record()]}, "text"])
def test_the_envelope_must_be_records_with_one_or_more(payload):
    with pytest.raises((errors.ValidationFailed, errors.BadJson)):
        adapters.generic_records(payload)


# -- Shopify ------------------------------------------------------------------------------------
ORDER = {
    "id": 5678901234, "name": "#1042", "email": "jo@example.com", "created_at": "2024-05-03T14:22:08-04:00",
    "cancelled_at": None, "currency": "USD", "financial_status": "paid", "source_name": "web",
    "customer": {"id": 7001002003, "email": "jo@example.com", "first_name": "Jo"},
    "billing_address": {"country_code": "US", "province": "New York"},
    "shipping_address": {"country_code": "US", "province": "New Jersey"},
    "line_items": [
        {"id": 1, "product_id": 8001, "variant_id": 9001, "sku": "TEE-BLK-M", "title": "Logo tee",
         "variant_title": "Black / M", "quantity": 2, "price": "25.00", "vendor": "Acme", "product_type": "Apparel",
         "total_discount": "0.00",
         "discount_allocations": [{"amount": "5.00", "discount_application_index": 0}]},
        {"id": 2, "product_id": 8002, "variant_id": 9002, "sku": "", "title": "Sticker pack", "variant_title": None,
         "quantity": 1, "price": "4.50", "vendor": "Acme", "product_type": "Accessories", "total_discount": "0.00",
         "discount_allocations": []},
    ],
}


def test_shopify_order_gives_one_row_per_line_item_with_discounts_taken_off():
    rows = adapters.shopify_order(ORDER, "orders/paid")
    assert len(rows) == 2
    tee, sticker = rows.iloc[0], rows.iloc[1]
    assert (tee.order_id, tee.ts, tee.customer_id) == ("#1042", "2024-05-03T14:22:08-04:00", "7001002003")
    assert (tee.product_id, tee.product_name, tee.category) == ("TEE-BLK-M", "Logo tee - Black / M", "Apparel")
    assert (tee.quantity, tee.unit_price, tee.amount) == ("2", "25.00", "45.00")
    assert (tee.region, tee.channel, tee.currency, tee.province, tee.vendor) == ("US", "online", "USD",
                                                                                   "New Jersey", "Acme")
    assert (sticker.product_id, sticker.product_name, sticker.amount) == ("8002", "Sticker pack", "4.50")
    assert set(rows.return_reason) == {""}


def test_legacy_total_discount_is_used_when_there_are_no_allocations():
    order = copy.deepcopy(ORDER)
    order["line_items"][0].update(discount_allocations=[], total_discount="7.50")
    assert adapters.shopify_order(order).iloc[0].amount == "42.50"


def test_a_cancelled_order_becomes_returns_with_negative_quantities():
    order = {**copy.deepcopy(ORDER), "cancelled_at": "2024-05-04T09:00:00-04:00", "name": None}
    rows = adapters.shopify_order(order, "orders/cancelled")
    assert list(rows.quantity) == ["-2", "-1"] and list(rows.amount) == ["-45.00", "-4.50"]
    assert set(rows.return_reason) == {"cancelled"} and set(rows.ts) == {"2024-05-04T09:00:00-04:00"}
    assert set(rows.order_id) == {"5678901234"}


def test_a_refund_webhook_becomes_negative_rows():
    refund = {"id": 1, "order_id": 5678901234, "created_at": "2024-05-06T10:00:00Z",
              "refund_line_items": [{"quantity": 1, "subtotal": "20.00", "line_item": ORDER["line_items"][0]}]}
    rows = adapters.shopify_order(refund, "refunds/create")
    assert (rows.iloc[0].quantity, rows.iloc[0].amount, rows.iloc[0].return_reason) == ("-1", "-20.00", "refunded")


def test_shopify_problems_are_named_and_unknown_topics_refused():
    order = copy.deepcopy(ORDER)
    del order["created_at"]
    order["line_items"][1]["price"] = "free"
    with pytest.raises(InvalidRecords) as caught:
        adapters.shopify_order(order, "orders/create")
    fields = {d["field"]: d for d in caught.value.details}
    assert fields["created_at"]["problem"] == "is required" and fields["line_items.1.price"]["record"] == 1
    with pytest.raises(UnsupportedTopic):
        adapters.shopify_order(ORDER, "products/update")
