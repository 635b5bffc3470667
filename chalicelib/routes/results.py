"""/runs and /results: start an analysis, follow its progress, read and export what it produced."""
from __future__ import annotations

from typing import Any

import pydantic
from chalice import Blueprint, Response

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from chalicelib.errors import NotFound
from chalicelib.http import parse_body, query_int
from chalicelib.routes.guard import endpoint, jwt_authorizer

bp = Blueprint(__name__)

MAX_PAGE = 5000


class RunRequest(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    reason: str = pydantic.Field(default="", max_length=200)


@bp.route("/runs", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def list_runs(ctx: TenantContext) -> dict[str, Any]:
    limit = query_int(bp.current_request, "limit", 20, 1, 100)
    return {"runs": [run.public() for run in services.results().runs.list(ctx.tenant_id, limit)]}


@bp.route("/runs", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "analysis:run")
def request_run(ctx: TenantContext) -> Response:
    body = parse_body(bp.current_request, RunRequest)
    requested = services.results().request_run(ctx, body.reason.strip())
    services.tenancy().audit.record(ctx.tenant_id, "analysis_requested", ctx.email, details={
        "run_id": requested["run"]["run_id"], "coalesced": requested["coalesced"], "reason": body.reason.strip()})
    return Response(body=requested, status_code=202)


@bp.route("/runs/{run_id}", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def get_run(ctx: TenantContext, run_id: str) -> dict[str, Any]:
    run = services.results().runs.get(ctx.tenant_id, run_id)
    if run is None:
        raise NotFound(f"No analysis run '{run_id}' in your company. GET /runs lists them.")
    return run.public()


@bp.route("/results", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def results_overview(ctx: TenantContext) -> dict[str, Any]:
    return services.results().overview(ctx)


@bp.route("/results/{artifact}", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def read_artifact(ctx: TenantContext, artifact: str) -> dict[str, Any]:
    request = bp.current_request
    limit = query_int(request, "limit", 500, 1, MAX_PAGE)
    offset = query_int(request, "offset", 0, 0, 1_000_000_000)
    return services.results().page(ctx, artifact, _run_param(request), offset, limit)


@bp.route("/results/{artifact}/csv", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def export_artifact(ctx: TenantContext, artifact: str) -> Response:
    text, filename = services.results().csv(ctx, artifact, _run_param(bp.current_request))
    return Response(body=text, status_code=200, headers={"Content-Type": "text/csv; charset=utf-8",
                                                         "Content-Disposition": f'attachment; filename="{filename}"'})


def _run_param(request: Any) -> str | None:
    return (request.query_params or {}).get("run") or None
