"""Composition root: builds the real adapters once per process from the settings."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib import aws
from chalicelib.auth.cognito import CognitoUsers
from chalicelib.auth.tokens import JwksCache, TokenVerifier
from chalicelib.config import get_settings
from chalicelib.mail import SesMailer
from chalicelib.tenancy.audit import AuditLog
from chalicelib.tenancy.feedback import FeedbackDesk, FeedbackStore
from chalicelib.tenancy.lifecycle import Storage
from chalicelib.tenancy.service import Tenancy
from chalicelib.tenancy.store import TenantStore


@lru_cache(maxsize=1)
def tenancy() -> Tenancy:
    s = get_settings()
    dynamodb = aws.client("dynamodb")
    return Tenancy(store=TenantStore(dynamodb, s.table_name),
                   users=CognitoUsers(aws.client("cognito-idp"), s.user_pool_id, s.user_pool_client_id),
                   audit=AuditLog(dynamodb, s.table_name), portal_url=s.portal_url.rstrip("/"),
                   invitation_ttl_hours=s.invitation_ttl_hours)


@lru_cache(maxsize=1)
def feedback() -> FeedbackDesk:
    s = get_settings()
    return FeedbackDesk(store=FeedbackStore(aws.client("dynamodb"), s.table_name),
                        mailer=SesMailer(aws.client("ses"), s.email_from), support_email=s.support_email)


@lru_cache(maxsize=1)
def storage() -> Storage:
    s = get_settings()
    return Storage(aws.client("s3"), s.data_bucket, s.export_url_ttl_seconds)


@lru_cache(maxsize=1)
def verifier() -> TokenVerifier:
    s = get_settings()
    return TokenVerifier(s.cognito_issuer, s.user_pool_client_id, JwksCache(s.jwks_url))


@lru_cache(maxsize=1)
def query_engine() -> Any:
    from chalicelib.query.engine import engine_for

    return engine_for(get_settings())


@lru_cache(maxsize=1)
def ingestion() -> Any:
    """Built on first use: importing pandas and pyarrow costs the other routes nothing."""
    from chalicelib.ingest.service import IngestionService
    from chalicelib.ingest.uploads import UploadStore

    s = get_settings()
    return IngestionService(s3=aws.client("s3"), sqs=aws.client("sqs"), bucket=s.data_bucket,
                            kms_key_id=s.kms_key_id, uploads=UploadStore(aws.client("dynamodb"), s.table_name),
                            engine=query_engine(), ingest_queue_url=s.ingest_queue_url,
                            jobs_queue_url=s.jobs_queue_url, max_bytes=s.upload_max_bytes,
                            url_ttl_seconds=s.upload_url_ttl_seconds)


@lru_cache(maxsize=1)
def webhooks() -> Any:
    """The webhook door (keys, idempotency, buffer) sharing one clock; pandas is imported on first use."""
    from chalicelib.webhooks.buffer import WebhookBuffer
    from chalicelib.webhooks.clock import Clock
    from chalicelib.webhooks.idempotency import IdempotencyStore
    from chalicelib.webhooks.intake import Webhooks
    from chalicelib.webhooks.secrets import WebhookKeys

    s, dynamodb, clock = get_settings(), aws.client("dynamodb"), Clock()
    return Webhooks(keys=WebhookKeys(dynamodb, aws.client("kms"), s.table_name, s.kms_key_id,
                                     AuditLog(dynamodb, s.table_name), clock),
                    idempotency=IdempotencyStore(dynamodb, s.table_name, clock),
                    buffer=WebhookBuffer(aws.client("s3"), s.data_bucket, s.kms_key_id, dynamodb, s.table_name, clock),
                    clock=clock)


@lru_cache(maxsize=1)
def results() -> Any:
    """Runs and encrypted artifacts; pandas and the Encryption SDK are imported on first use."""
    from chalicelib.results.artifacts import ArtifactStore
    from chalicelib.results.runs import RunStore
    from chalicelib.results.service import Results

    s = get_settings()
    return Results(runs=RunStore(aws.client("dynamodb"), s.table_name),
                   artifacts=ArtifactStore(aws.client("s3"), s.data_bucket, s.kms_key_id, kms=aws.client("kms")),
                   sqs=aws.client("sqs"), jobs_queue_url=s.jobs_queue_url)


@lru_cache(maxsize=1)
def explore() -> Any:
    """The Explore layer: its rollups, the answer cache (one per process) and the query engine."""
    from chalicelib.explore.rollups import Rollups
    from chalicelib.explore.service import Explore

    s = get_settings()
    return Explore(query_engine(), Rollups(aws.client("s3"), s.data_bucket, s.kms_key_id, query_engine()),
                   max_scan_lines=s.explore_max_scan_lines)


@lru_cache(maxsize=1)
def reports() -> Any:
    """Reports, schedules, alert settings and the delivery log, as the routes use them."""
    from chalicelib.reports.alert_store import AlertSettingsStore
    from chalicelib.reports.deliveries import DeliveryLog
    from chalicelib.reports.schedule_store import ScheduleStore
    from chalicelib.reports.service import Reporting
    from chalicelib.reports.store import ReportFiles, ReportStore

    s, dynamodb = get_settings(), aws.client("dynamodb")
    return Reporting(reports=ReportStore(dynamodb, s.table_name),
                     files=ReportFiles(results().artifacts, aws.client("s3"), s.data_bucket, s.report_url_ttl_seconds),
                     schedules=ScheduleStore(dynamodb, s.table_name),
                     alert_settings=AlertSettingsStore(dynamodb, aws.client("kms"), s.table_name, s.kms_key_id),
                     deliveries=DeliveryLog(dynamodb, s.table_name), explore=explore(),
                     tenants=tenancy().store, sqs=aws.client("sqs"), queue_url=s.jobs_queue_url,
                     allow_loopback_webhooks=bool(s.alert_webhook_allow_loopback))


def reset() -> None:
    """Forget every adapter (tests switch settings and moto backends between cases)."""
    for factory in (tenancy, feedback, storage, verifier, query_engine, ingestion, webhooks, results, explore,
                    reports):
        factory.cache_clear()
    aws.reset()
    get_settings.cache_clear()
