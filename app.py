"""SalesLens API: the table of contents — blueprints, the authorizer, middleware."""
from chalice import Chalice, CORSConfig

from chalicelib import http, logs
from chalicelib.config import get_settings
from chalicelib.ingest import events as ingest_events
from chalicelib.routes import (
    audit,
    auth,
    explore,
    feedback,
    guard,
    health,
    me,
    members,
    openapi,
    preferences,
    reports,
    results,
    tenant,
    uploads,
    webhooks,
)

app = Chalice(app_name="saleslens")
app.log.setLevel(get_settings().log_level)
app.api.cors = CORSConfig(allow_origin=get_settings().portal_origin,
                          allow_headers=["Authorization", "Content-Type", logs.CORRELATION_HEADER],
                          expose_headers=[logs.CORRELATION_HEADER], max_age=600)
app.register_middleware(http.middleware, "http")

for blueprint in (guard, health, auth, me, preferences, tenant, members, audit, feedback, uploads, webhooks, results,
                  explore, reports, openapi):
    app.register_blueprint(blueprint.bp)


@app.lambda_function(name="ingest_worker")
def ingest_worker(event: dict, context: object) -> dict:
    """S3 events, confirmed uploads and webhook flushes, delivered by the ingest queue."""
    return ingest_events.handle(event, context)
