"""/explore: questions over the company's own sales (measures by dimensions, filtered, compared, drilled down)."""
from __future__ import annotations

from typing import Any, TypeVar

from chalice import Blueprint, Response

from chalicelib import errors, services
from chalicelib.auth.permissions import TenantContext
from chalicelib.http import parse_body, query_int
from chalicelib.query.explore_model import ExploreQuery, Filters, RowsQuery
from chalicelib.routes.guard import endpoint, jwt_authorizer
from chalicelib.tenancy import preferences

bp = Blueprint(__name__)
MAX_SEARCH = 100
Query = TypeVar("Query", bound=Filters)


@bp.route("/explore", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def explore(ctx: TenantContext) -> dict[str, Any]:
    """Measures split by up to two dimensions, filtered, sorted, top-N and compared."""
    return services.explore().explore(ctx, _in_their_weeks(ctx, parse_body(bp.current_request, ExploreQuery)))


@bp.route("/explore/rows", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def explore_rows(ctx: TenantContext) -> Any:
    """The order lines behind a cell, paged, or all of them as CSV (``"format": "csv"``)."""
    answer = services.explore().rows(ctx, _in_their_weeks(ctx, parse_body(bp.current_request, RowsQuery)))
    if isinstance(answer, str):
        return Response(body=answer, status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": 'attachment; filename="order-lines.csv"'})
    return answer


def _in_their_weeks(ctx: TenantContext, query: Query) -> Query:
    """Weeks start on the day the caller chose in their preferences unless the request says otherwise (read only
    for a question about weeks: one DynamoDB read fewer for every other)."""
    about_weeks = "week" in getattr(query, "dimensions", ()) or any(c.field == "week" for c in query.filters)
    if "week_start" in query.model_fields_set or not about_weeks:
        return query
    chosen = preferences.read(services.tenancy().store, ctx).week_start
    return query.model_copy(update={"week_start": chosen})


@bp.route("/explore/values", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def explore_values(ctx: TenantContext) -> dict[str, Any]:
    """Autocomplete over the company's own products, customers, categories, regions and channels."""
    request = bp.current_request
    params = request.query_params or {}
    dimension = (params.get("dimension") or "").strip()
    text = params.get("q") or ""
    if not dimension:
        raise errors.ValidationFailed("Say which field to search: ?dimension=product&q=ten.",
                                      [{"field": "dimension", "problem": "missing"}])
    if len(text) > MAX_SEARCH:
        raise errors.ValidationFailed(f"Search text is at most {MAX_SEARCH} characters.",
                                      [{"field": "q", "problem": "too long"}])
    limit = query_int(request, "limit", 20, 1, 20)
    return services.explore().values(ctx, dimension[:64], text, limit)


@bp.route("/explore/fields", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def explore_fields(ctx: TenantContext) -> dict[str, Any]:
    """The measures and dimensions this company's data has, each with a one-line definition."""
    return services.explore().fields(ctx)
