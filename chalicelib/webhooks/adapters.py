"""Webhook payloads → canonical transaction rows as text. Pure: JSON-like values in, a DataFrame out.

Both adapters return a DataFrame whose columns are ``schema.TRANSACTIONS`` column names (all of
them, in order) followed by any extra columns, and whose every cell is a string ("" when absent):
the regular cleaning step parses and validates values, exactly as for an uploaded CSV.

A generic batch is all or nothing: when any record is invalid, none is accepted and every problem
is reported as ``{"record": i, "field", "problem"}``. A sender can then fix and resend the whole
batch under a new idempotency key without working out which half already landed.
"""
from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import pandas as pd
import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chalicelib import errors
from chalicelib.errors import InvalidRecords, TooManyRecords, UnsupportedTopic
from chalicelib.ingest.schema import TRANSACTIONS

MAX_RECORDS = 1000
MAX_DETAILS = 200
MAX_EXTRA_COLUMNS = 50
COLUMNS = TRANSACTIONS.column_names
RESERVED = frozenset(column.name for column in TRANSACTIONS.derived)
_EXTRA_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_EPOCH_RANGE = (946_684_800, 4_102_444_800)  # 2000-01-01 .. 2100-01-01, in seconds


# -- value coercion: everything becomes text, but obviously wrong values are refused here ----------
def _text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be text or a number")
    return value.strip() if isinstance(value, str) else str(value)


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, e.g. 19.99")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return repr(value)
    if isinstance(value, str):
        try:
            if math.isfinite(float(value.strip())):
                return value.strip()
        except ValueError:
            pass
    raise ValueError("must be a number, e.g. 19.99 (a dot for decimals, no thousands separator)")


def _timestamp(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not _EPOCH_RANGE[0] <= value < _EPOCH_RANGE[1]:
            raise ValueError("a number here must be unix time in seconds (between 2000 and 2100)")
        return datetime.fromtimestamp(value, UTC).isoformat()
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.strip())
            return value.strip()
        except ValueError:
            pass
    raise ValueError("must be an ISO 8601 date or date-time (2024-05-01T14:30:00Z) or unix seconds")


def _currency(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        raise ValueError("must be a 3-letter ISO currency code, e.g. EUR")
    return value.strip().upper()


Text = Annotated[str, BeforeValidator(_text), Field(max_length=500)]
Number = Annotated[str, BeforeValidator(_number)]
Timestamp = Annotated[str, BeforeValidator(_timestamp)]
Currency = Annotated[str, BeforeValidator(_currency)]


class GenericRecord(BaseModel):
    """One sale line as a sender posts it; unknown fields are kept as extra columns."""

    model_config = ConfigDict(extra="allow")

    order_id: Text | None = None
    ts: Timestamp
    customer_id: Text | None = None
    product_id: Text | None = None
    product_name: Text | None = None
    category: Text | None = None
    quantity: Number | None = None
    unit_price: Number | None = None
    amount: Number | None = None
    region: Text | None = None
    channel: Text | None = None
    currency: Currency | None = None


def _record_problems(index: int, raw: Any) -> tuple[dict[str, str] | None, list[dict[str, Any]]]:
    if not isinstance(raw, dict):
        return None, [{"record": index, "field": "record", "problem": "must be a JSON object"}]
    try:
        record = GenericRecord.model_validate(raw)
    except pydantic.ValidationError as exc:
        return None, [{"record": index, "field": ".".join(str(p) for p in e["loc"]) or "record",
                       "problem": "is required" if e["type"] == "missing" else e["msg"].removeprefix("Value error, ")}
                      for e in exc.errors()]
    row = {name: getattr(record, name) or "" for name in COLUMNS}
    problems = [{"record": index, "field": "/".join(group), "problem": f"send at least one of {', '.join(group)}"}
                for group in TRANSACTIONS.missing_requirements({k for k, v in row.items() if v})]
    extras = record.model_extra or {}
    if len(extras) > MAX_EXTRA_COLUMNS:
        problems.append({"record": index, "field": "record",
                         "problem": f"has {len(extras)} extra fields; at most {MAX_EXTRA_COLUMNS} are kept"})
    for name, value in extras.items():
        if name in RESERVED:
            problems.append({"record": index, "field": name, "problem": "is set by SalesLens; for a return "
                             "send a negative quantity and amount"})
        elif not _EXTRA_NAME.fullmatch(name):
            problems.append({"record": index, "field": name[:80], "problem": "extra field names must be letters, "
                             "digits and underscores, starting with a letter (at most 64)"})
        elif value is not None and (isinstance(value, dict | list) or len(str(value)) > 500):
            problems.append({"record": index, "field": name, "problem": "extra fields must be text, a number or "
                             "a boolean (at most 500 characters)"})
        else:
            row[name] = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
    return row, problems


def generic_records(payload: Any) -> pd.DataFrame:
    """``{"records": [...]}`` → rows; raises 400/413/422 errors that name what to fix."""
    if not isinstance(payload, dict):
        raise errors.BadJson('The request body must be a JSON object: {"records": [ ... ]}.')
    unknown = sorted(set(payload) - {"records"})
    if unknown:
        raise errors.ValidationFailed('The body takes one field, "records".',
                                      [{"field": name, "problem": "unknown field"} for name in unknown[:20]])
    records = payload.get("records")
    if not isinstance(records, list) or not records:
        raise errors.ValidationFailed(f'Send "records": a list of 1 to {MAX_RECORDS} sale lines.',
                                      [{"field": "records", "problem": "must be a non-empty list"}])
    if len(records) > MAX_RECORDS:
        raise TooManyRecords(f"This call has {len(records)} records; the limit is {MAX_RECORDS} per call. "
                             "Split the batch into several calls, each with its own Idempotency-Key.")
    rows, problems = [], []
    for index, raw in enumerate(records):
        row, found = _record_problems(index, raw)
        problems += found
        if row is not None:
            rows.append(row)
    if problems:
        bad = len({p["record"] for p in problems})
        raise InvalidRecords(f"{bad} of {len(records)} records are invalid; none of this batch was accepted. "
                             "Fix the records listed in details and send the whole batch again.",
                             problems[:MAX_DETAILS])
    return frame(rows)


def frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    """Rows as a text DataFrame: canonical columns first (always all of them), extras after."""
    extras = list(dict.fromkeys(k for row in rows for k in row if k not in COLUMNS))
    result = pd.DataFrame(rows, columns=[*COLUMNS, *extras], dtype=object)
    return result.fillna("").astype(str)


# -- Shopify ------------------------------------------------------------------------------------
ORDER_TOPICS = frozenset({"orders/create", "orders/paid", "orders/cancelled"})
REFUND_TOPIC = "refunds/create"
_CHANNELS = {"web": "online", "pos": "store", "iphone": "mobile app", "android": "mobile app",
             "shopify_draft_order": "draft order"}
Id = Annotated[str, BeforeValidator(_text)]
# Bounded, or "1e999999999" (valid JSON, a valid Decimal) would be written out digit by digit: a gigabyte string.
Money = Annotated[Decimal, Field(max_digits=24, allow_inf_nan=False)]
Quantity = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]


class _Shopify(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Customer(_Shopify):
    id: Id | None = None
    email: str | None = None


class _Address(_Shopify):
    country_code: str | None = None
    province: str | None = None


class _Discount(_Shopify):
    amount: Money


class _LineItem(_Shopify):
    sku: str | None = None
    product_id: Id | None = None
    variant_id: Id | None = None
    title: str = ""
    variant_title: str | None = None
    quantity: Quantity
    price: Money
    vendor: str | None = None
    product_type: str | None = None
    total_discount: Money | None = None
    discount_allocations: list[_Discount] = []


class _Order(_Shopify):
    id: Id
    name: str | None = None
    created_at: Timestamp
    cancelled_at: Timestamp | None = None
    currency: str | None = None
    email: str | None = None
    customer: _Customer | None = None
    line_items: list[_LineItem]
    billing_address: _Address | None = None
    shipping_address: _Address | None = None
    source_name: str | None = None


class _RefundLine(_Shopify):
    quantity: Quantity
    subtotal: Money | None = None
    line_item: _LineItem


class _Refund(_Shopify):
    id: Id
    order_id: Id
    created_at: Timestamp
    refund_line_items: list[_RefundLine]


def _money(value: Decimal) -> str:
    return format(value, "f")


def _product(item: _LineItem) -> dict[str, str]:
    variant = item.variant_title if item.variant_title and item.variant_title != "Default Title" else ""
    return {"product_id": item.sku or item.product_id or item.variant_id or "",
            "product_name": f"{item.title} - {variant}" if variant else item.title,
            "category": item.product_type or "", "unit_price": _money(item.price), "vendor": item.vendor or ""}


def _discount(item: _LineItem) -> Decimal:
    if item.discount_allocations:
        return sum((d.amount for d in item.discount_allocations), Decimal(0))
    return item.total_discount or Decimal(0)


def _order_rows(order: _Order) -> list[dict[str, str]]:
    """One row per line item; a cancelled order becomes returns (negative quantity and amount)."""
    sign = -1 if order.cancelled_at else 1
    customer = order.customer or _Customer()
    billing, shipping = order.billing_address or _Address(), order.shipping_address or _Address()
    common = {"order_id": order.name or order.id, "ts": order.cancelled_at or order.created_at,
              "customer_id": customer.id or customer.email or order.email or "",
              "region": billing.country_code or shipping.country_code or "",
              "channel": _CHANNELS.get(order.source_name or "", order.source_name or ""),
              "currency": (order.currency or "").upper(), "province": shipping.province or "",
              "return_reason": "cancelled" if order.cancelled_at else ""}
    return [{**common, **_product(item), "quantity": str(sign * item.quantity),
             "amount": _money(sign * (item.quantity * item.price - _discount(item)))}
            for item in order.line_items]


def _refund_rows(refund: _Refund) -> list[dict[str, str]]:
    """Refund payloads carry the numeric order id only (no order name, customer or address)."""
    return [{"order_id": refund.order_id, "ts": refund.created_at, **_product(line.line_item),
             "quantity": str(-line.quantity), "return_reason": "refunded",
             "amount": _money(-(line.subtotal if line.subtotal is not None else line.quantity * line.line_item.price))}
            for line in refund.refund_line_items]


def shopify_order(payload: Any, topic: str = "") -> pd.DataFrame:
    """A Shopify order (or refund) webhook payload → one canonical row per line item."""
    topic = topic.strip().lower()
    if topic and topic not in ORDER_TOPICS | {REFUND_TOPIC}:
        raise UnsupportedTopic(f"The Shopify topic '{topic[:60]}' is not accepted here. Subscribe orders/paid "
                               "(or orders/create, not both), orders/cancelled and refunds/create.")
    if not isinstance(payload, dict):
        raise errors.BadJson("The Shopify payload must be a JSON object.")
    refund = topic == REFUND_TOPIC or (not topic and "refund_line_items" in payload)
    try:
        rows = _refund_rows(_Refund.model_validate(payload)) if refund else _order_rows(_Order.model_validate(payload))
    except pydantic.ValidationError as exc:
        raise InvalidRecords("The Shopify payload is missing fields SalesLens needs; nothing was accepted.",
                             [_shopify_problem(e) for e in exc.errors()][:MAX_DETAILS]) from None
    return frame(rows)


def _shopify_problem(error: dict[str, Any]) -> dict[str, Any]:
    loc = list(error["loc"])
    problem = "is required" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
    detail: dict[str, Any] = {"field": ".".join(str(p) for p in loc) or "body", "problem": problem}
    if len(loc) >= 2 and loc[0] in ("line_items", "refund_line_items") and isinstance(loc[1], int):
        detail["record"] = loc[1]
    return detail

