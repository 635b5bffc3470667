"""/uploads: a file from the portal, from presigned form to quality report; /datasets; manual entry."""
from __future__ import annotations

import io
from typing import Any

import pandas as pd
from chalice import Blueprint, Response

from chalicelib import errors, services
from chalicelib.auth.permissions import TenantContext
from chalicelib.http import parse_body, query_int
from chalicelib.ingest.schema import DATASETS
from chalicelib.routes import schemas
from chalicelib.routes.guard import endpoint, jwt_authorizer

bp = Blueprint(__name__)


@bp.route("/uploads", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "data:upload")
def create_upload(ctx: TenantContext) -> Response:
    body = parse_body(bp.current_request, schemas.NewUpload)
    return Response(body=services.ingestion().create_upload(ctx, body.filename, body.size, body.dataset),
                    status_code=201)


@bp.route("/uploads", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "tenant:read")
def list_uploads(ctx: TenantContext) -> dict[str, Any]:
    limit = query_int(bp.current_request, "limit", 50, 1, 200)
    return {"uploads": [u.public() for u in services.ingestion().uploads.list(ctx.tenant_id, limit)]}


@bp.route("/uploads/{upload_id}", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "tenant:read")
def get_upload(ctx: TenantContext, upload_id: str) -> dict[str, Any]:
    return services.ingestion().get(ctx, upload_id).public()


@bp.route("/uploads/{upload_id}/mapping", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "data:upload")
def confirm_mapping(ctx: TenantContext, upload_id: str) -> Response:
    body = parse_body(bp.current_request, schemas.MappingChoice)
    return Response(body=services.ingestion().confirm_mapping(ctx, upload_id, body.columns).public(),
                    status_code=202)


@bp.route("/uploads/{upload_id}/rejects", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "tenant:read")
def rejects(ctx: TenantContext, upload_id: str) -> dict[str, Any]:
    return {"url": services.ingestion().rejects_url(ctx, upload_id)}


@bp.route("/datasets", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "tenant:read")
def list_datasets(ctx: TenantContext) -> dict[str, Any]:
    return {"datasets": services.ingestion().datasets(ctx)}


@bp.route("/transactions", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "data:upload")
def add_transaction(ctx: TenantContext) -> Response:
    """Manual entry of one sale: the same cleaning as files; a bad value is a 422 with the reason."""
    body = parse_body(bp.current_request, schemas.ManualTransaction)
    record = {k: (None if v is None else str(v)) for k, v in body.model_dump().items()}
    result = services.ingestion().ingest_records(ctx, pd.DataFrame([record], dtype=object), source="manual")
    summary = result["summary"]
    if not summary.get("rows_accepted"):
        if summary.get("duplicates_already_loaded") or summary.get("duplicates_in_file"):
            raise errors.Conflict("This exact sale is already recorded.")
        raise errors.ValidationFailed("The sale could not be recorded; see details.", result.get("rejects") or [
            {"problem": issue} for issue in result["quality"].get("issues", [])])
    return Response(body={"batch_id": result["batch_id"], "summary": summary}, status_code=201)


@bp.route("/schema", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "tenant:read")
def dataset_schema(ctx: TenantContext) -> dict[str, Any]:
    """The canonical columns of each dataset, for the portal's mapping form."""
    return {"datasets": [{"dataset": d.name, "title": d.title, "required": [list(g) for g in d.required],
                          "columns": [{"name": c.name, "kind": c.kind, "description": c.description}
                                      for c in d.columns]} for d in DATASETS.values()]}


@bp.route("/templates/{dataset}", methods=["GET"])
def csv_template(dataset: str) -> Response:
    """An empty CSV with the canonical header and one example row, to fill in a spreadsheet."""
    name = dataset.removesuffix(".csv")
    if name not in DATASETS:
        raise errors.NotFound(f"No template '{dataset}'. Use one of: "
                              f"{', '.join(f'{d}.csv' for d in DATASETS)}.")
    columns = DATASETS[name].column_names
    out = io.StringIO()
    pd.DataFrame([{c: EXAMPLES.get(c, "") for c in columns}], columns=list(columns)).to_csv(out, index=False)
    return Response(body=out.getvalue(), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="saleslens-{name}-template.csv"'})


EXAMPLES = {"order_id": "1001", "ts": "2026-01-31 14:05", "customer_id": "C-042", "product_id": "SKU-7",
            "product_name": "Trail helmet", "category": "Accessories", "quantity": "2", "unit_price": "49.90",
            "amount": "99.80", "region": "North", "channel": "store", "currency": "EUR",
            "customer_name": "Ada Lovelace",
            "signup_date": "2025-03-01", "segment": "retail", "brand": "Acme", "unit_cost": "21.00",
            "list_price": "59.90", "date": "2026-01-31", "visits": "840", "prospect_id": "L-17",
            "source": "trade fair", "created_date": "2026-01-10", "converted": "false"}
