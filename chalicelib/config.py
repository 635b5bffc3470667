"""Settings read once from the environment into one frozen object."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    """Everything the API and the worker need to find their AWS resources.

    Names are environment variables with the ``SL_`` prefix (``data_bucket`` is
    ``SL_DATA_BUCKET``), except ``region`` (``AWS_REGION``) and ``endpoint_url``
    (``AWS_ENDPOINT_URL``, set only by the local stack; boto3 honours it itself).
    """

    stage: str = "dev"
    region: str = "us-east-1"
    endpoint_url: str = ""
    data_bucket: str = "saleslens-local-data"
    table_name: str = "saleslens-local"
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    kms_key_id: str = "alias/saleslens-local"
    jobs_queue_url: str = ""
    ingest_queue_url: str = ""
    glue_database: str = "saleslens_local"
    athena_workgroup: str = "saleslens-local"
    portal_origin: str = "*"
    portal_url: str = "http://127.0.0.1:8080"
    email_from: str = "no-reply@saleslens.example"
    support_email: str = "support@saleslens.example"
    log_level: str = "INFO"
    invitation_ttl_hours: int = 72
    export_url_ttl_seconds: int = 900
    upload_max_bytes: int = 1_073_741_824
    upload_url_ttl_seconds: int = 3600
    explore_max_scan_lines: int = 200_000_000
    report_url_ttl_seconds: int = 300
    alert_webhook_allow_loopback: int = 0  # 1 only on the local stack and in tests: alert webhooks to 127.0.0.1

    @property
    def cognito_issuer(self) -> str:
        """The ``iss`` claim Cognito (and moto) put in this pool's tokens."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        """Where the pool's public keys are served: Cognito, or the embedded AWS."""
        base = self.endpoint_url.rstrip("/") or self.cognito_issuer.rsplit("/", 1)[0]
        return f"{base}/{self.user_pool_id}/.well-known/jwks.json"


ENV_NAMES = {
    "region": "AWS_REGION",
    "endpoint_url": "AWS_ENDPOINT_URL",
}


def env_name(field_name: str) -> str:
    """The environment variable that sets ``field_name``."""
    return ENV_NAMES.get(field_name, f"SL_{field_name.upper()}")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: the process environment)."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for field in fields(Settings):
        raw = environ.get(env_name(field.name))
        if raw is None or raw == "":
            continue
        values[field.name] = int(raw) if field.type == "int" else raw
    if "region" not in values and environ.get("AWS_DEFAULT_REGION"):
        values["region"] = environ["AWS_DEFAULT_REGION"]
    return Settings(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()``."""
    return load_settings()
