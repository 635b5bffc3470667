"""/webhook-secrets (signed-in admins manage keys) and /v1/ingest/* (POS and shops push sales, signed).

The ingest routes have no Cognito authorizer: they authenticate by HMAC signature, and the tenant
comes from the key id. The signature is checked on ``raw_body``, the exact bytes received.
"""
from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint, Response
from pydantic import Field

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from chalicelib.http import parse_body
from chalicelib.routes.guard import endpoint, jwt_authorizer
from chalicelib.routes.schemas import Body, Text
from chalicelib.webhooks.idempotency import REPLAY_HEADER

bp = Blueprint(__name__)

# An existing secret to import, e.g. the signing secret Shopify shows for webhooks made in its admin.
ImportedSecret = Annotated[str, Field(min_length=16, max_length=512, pattern=r"^[\x21-\x7e]+$")]


class NewKey(Body):
    name: Text
    secret: ImportedSecret | None = None


class Rotation(Body):
    secret: ImportedSecret | None = None


@bp.route("/webhook-secrets", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "webhooks:manage")
def create_key(ctx: TenantContext) -> Response:
    body = parse_body(bp.current_request, NewKey)
    return Response(body=services.webhooks().keys.create(ctx, body.name, body.secret), status_code=201)


@bp.route("/webhook-secrets", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "webhooks:manage")
def list_keys(ctx: TenantContext) -> dict[str, Any]:
    return {"keys": services.webhooks().keys.list(ctx)}


@bp.route("/webhook-secrets/{key_id}/rotate", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "webhooks:manage")
def rotate_key(ctx: TenantContext, key_id: str) -> dict[str, Any]:
    body = parse_body(bp.current_request, Rotation)
    return services.webhooks().keys.rotate(ctx, key_id, body.secret)


@bp.route("/webhook-secrets/{key_id}", methods=["DELETE"], authorizer=jwt_authorizer)
@endpoint(bp, "webhooks:manage")
def revoke_key(ctx: TenantContext, key_id: str) -> Response:
    services.webhooks().keys.revoke(ctx, key_id)
    return Response(body="", status_code=204)


@bp.route("/v1/ingest/records", methods=["POST"])
def ingest_records() -> Response:
    request = bp.current_request
    return _answer(services.webhooks().receive_records(request.headers, request.raw_body or b""))


@bp.route("/v1/ingest/shopify/orders", methods=["POST"])
def ingest_shopify_orders() -> Response:
    request = bp.current_request
    return _answer(services.webhooks().receive_shopify(request.headers, request.query_params or {},
                                                       request.raw_body or b""))


def _answer(delivery: Any) -> Response:
    headers = {REPLAY_HEADER: "true"} if delivery.replayed else {}
    return Response(body=delivery.body, status_code=delivery.status, headers=headers)
