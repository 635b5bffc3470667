"""Composition root: builds the real adapters once per process from the settings."""
from __future__ import annotations

from functools import lru_cache

from chalicelib import aws
from chalicelib.auth.cognito import CognitoUsers
from chalicelib.auth.tokens import JwksCache, TokenVerifier
from chalicelib.config import get_settings
from chalicelib.tenancy.audit import AuditLog
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
def storage() -> Storage:
    s = get_settings()
    return Storage(aws.client("s3"), s.data_bucket, s.export_url_ttl_seconds)


@lru_cache(maxsize=1)
def verifier() -> TokenVerifier:
    s = get_settings()
    return TokenVerifier(s.cognito_issuer, s.user_pool_client_id, JwksCache(s.jwks_url))


def reset() -> None:
    """Forget every adapter (tests switch settings and moto backends between cases)."""
    for factory in (tenancy, storage, verifier):
        factory.cache_clear()
    aws.reset()
    get_settings.cache_clear()
