"""Newest-first pages of a company's items that share a sort-key prefix (audit events, feedback). The page token is
the DynamoDB sort key to resume after, base64-encoded: only the sort key travels; the tenant always comes from the
caller's context."""
from __future__ import annotations

import base64
from typing import Any

from chalicelib.errors import ValidationFailed
from chalicelib.tenancy.store import from_item, tenant_pk, to_item


def newest_first(db: Any, table: str, tenant_id: str, prefix: str, limit: int, next_token: str | None,
                 consistent: bool = False) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` items of ``tenant_id`` whose sort key starts with ``prefix``, newest first, and the token of
    the next page (None on the last)."""
    pk = tenant_pk(tenant_id)
    kwargs: dict[str, Any] = {
        "TableName": table, "Limit": limit, "ScanIndexForward": False, "ConsistentRead": consistent,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :sk)",
        "ExpressionAttributeValues": to_item({":pk": pk, ":sk": prefix}),
    }
    if next_token:
        kwargs["ExclusiveStartKey"] = to_item({"pk": pk, "sk": decode(next_token, prefix)})
    result = db.query(**kwargs)
    last = result.get("LastEvaluatedKey")
    return [from_item(item) for item in result.get("Items", [])], encode(from_item(last)["sk"]) if last else None


def encode(sk: str) -> str:
    return base64.urlsafe_b64encode(sk.encode()).decode()


def decode(token: str, prefix: str) -> str:
    """The sort key in ``token``; a 400 unless it is one of this listing's keys (starts with ``prefix``)."""
    try:
        sk = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        sk = ""
    if not sk.startswith(prefix):
        raise ValidationFailed("The 'next' token is not valid; use the one from the previous page.",
                               [{"field": "next", "problem": "not a token this API issued"}])
    return sk
