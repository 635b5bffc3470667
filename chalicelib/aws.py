"""boto3 clients built lazily, once per process; AWS_ENDPOINT_URL (read by boto3) points them at moto locally."""
from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=30)


@cache
def client(service: str, region: str | None = None) -> Any:
    """A shared boto3 client for ``service``; tests call ``client.cache_clear()`` between moto runs."""
    from chalicelib.config import get_settings

    return boto3.session.Session().client(service, region_name=region or get_settings().region,
                                          config=_RETRIES)


def reset() -> None:
    """Forget cached clients (used by tests that start a fresh moto backend)."""
    client.cache_clear()
