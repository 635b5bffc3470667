"""Structured JSON logs (Powertools Logger) carrying a correlation id and the tenant on every line."""
from __future__ import annotations

import uuid

from aws_lambda_powertools import Logger

logger = Logger(service="saleslens")

CORRELATION_HEADER = "X-Correlation-Id"


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def bind(**keys: str) -> None:
    """Add keys to every following log line of this invocation."""
    logger.append_keys(**{k: v for k, v in keys.items() if v})


def clear() -> None:
    """Drop per-request keys so the next invocation starts clean (Lambda reuses the process)."""
    logger.remove_keys(["correlation_id", "tenant_id", "user_id", "path", "method"])


def correlation_id() -> str:
    """The current request's correlation id, to carry into events, jobs and audit records."""
    return str(logger.get_current_keys().get("correlation_id") or "")
