"""Analysis artifacts as envelope-encrypted Parquet: one S3 object per (run, artifact), bound to its tenant.

Each object is an AWS Encryption SDK message whose encryption context names the tenant, the run and the
artifact. The SDK proves the context is authentic; :meth:`ArtifactStore.read` also checks it is the one the
caller expects, so an object copied (or mis-written) under another tenant's prefix never decrypts into a
response. The payload inside is ``SLA1`` + 4-byte meta length + meta JSON + Parquet (zstd) bytes, so the
metadata (sentences, chosen models, skip reasons) is as private as the rows. S3 adds SSE-KMS on top.
"""
from __future__ import annotations

import io
import json
import struct
import threading
from typing import Any

import aws_encryption_sdk
import boto3
import pandas as pd
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError
from botocore.exceptions import ClientError

from chalicelib import errors, logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.lake import layout

ARTIFACTS: tuple[str, ...] = ("kpis", "timeseries", "decomposition", "forecast", "forecast_accuracy", "anomalies",
                              "rfm", "segments", "churn", "model_comparison", "recommendations", "basket_rules",
                              "leads", "insights")

_MAGIC = b"SLA1"
_SDK_CONTEXT_PREFIX = "aws-crypto-"  # keys the SDK adds itself (the signing public key)
_MISSING_KEY_CODES = ("NoSuchKey", "404", "NotFound")


def check_artifact(artifact: str) -> str:
    if artifact not in ARTIFACTS:
        raise ValueError(f"unknown artifact {artifact!r}; expected one of {', '.join(ARTIFACTS)}")
    return artifact


def encryption_context(ctx: TenantContext, run_id: str, artifact: str) -> dict[str, str]:
    return {"tenant_id": ctx.tenant_id, "run_id": run_id, "artifact": artifact}


def pack(frame: pd.DataFrame, meta: dict[str, Any] | None) -> bytes:
    """Meta JSON and Parquet bytes in one buffer; NaN in meta is refused (it is not JSON)."""
    try:
        meta_bytes = json.dumps(meta or {}, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"artifact meta must be plain JSON (no NaN, numpy or timestamps): {exc}") from None
    parquet = io.BytesIO()
    frame.to_parquet(parquet, engine="pyarrow", compression="zstd")
    return _MAGIC + struct.pack(">I", len(meta_bytes)) + meta_bytes + parquet.getvalue()


def unpack(payload: bytes) -> tuple[pd.DataFrame, dict[str, Any]]:
    if payload[:4] != _MAGIC:
        raise ValueError("not a SalesLens artifact payload")
    (size,) = struct.unpack(">I", payload[4:8])
    meta = json.loads(payload[8:8 + size]) if size else {}
    return pd.read_parquet(io.BytesIO(payload[8 + size:]), engine="pyarrow"), meta


class ArtifactStore:
    """Writes and reads one tenant's analysis artifacts; the pipeline writes, the API reads.

    ``kms_key_id`` should be the key ARN (what the stacks pass). An alias or bare key id is resolved to
    the ARN once, with ``kms`` (or a KMS client in the S3 client's region): the strict key provider
    decrypts only with keys named by ARN.
    """

    def __init__(self, s3: Any, bucket: str, kms_key_id: str, kms: Any | None = None) -> None:
        self._s3, self._bucket, self._kms_key_id, self._kms = s3, bucket, kms_key_id, kms
        # One encrypted data key per message, so a crafted object cannot make us call KMS many times.
        self._sdk = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, max_encrypted_data_keys=1)
        self._provider_lock = threading.Lock()
        self._key_provider: Any = None

    def write(self, ctx: TenantContext, run_id: str, artifact: str, frame: pd.DataFrame,
              meta: dict | None = None) -> dict:
        """Encrypt and store ``frame`` with ``meta``; returns ``{"artifact", "rows", "bytes"}``."""
        key = layout.results_key(ctx, run_id, check_artifact(artifact))
        size = self.put_sealed(key, pack(frame, meta), encryption_context(ctx, run_id, artifact))
        return {"artifact": artifact, "rows": int(len(frame)), "bytes": size}

    def read(self, ctx: TenantContext, run_id: str, artifact: str) -> tuple[pd.DataFrame, dict]:
        """The frame and meta of ``artifact``; ``errors.NotFound`` if absent or not this tenant's."""
        check_artifact(artifact)
        missing = errors.NotFound(f"Run '{run_id}' has no '{artifact}' results.")
        try:
            key = layout.results_key(ctx, run_id, artifact)
        except ValueError:
            raise missing from None
        return unpack(self.get_sealed(key, encryption_context(ctx, run_id, artifact), missing))

    def put_sealed(self, key: str, payload: bytes, context: dict[str, str]) -> int:
        """Envelope-encrypt ``payload`` bound to ``context`` and store it (SSE-KMS on top); returns the stored size.
        Reports use this too, so everything under a tenant's results is sealed the same way."""
        ciphertext, _ = self._sdk.encrypt(source=payload, key_provider=self._provider(), encryption_context=context)
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=ciphertext, ContentType="application/octet-stream",
                            ServerSideEncryption="aws:kms", SSEKMSKeyId=self._kms_key_id)
        return len(ciphertext)

    def get_sealed(self, key: str, context: dict[str, str], missing: errors.NotFound) -> bytes:
        """The plaintext at ``key``, only if it was sealed with exactly ``context``; else ``missing`` is raised."""
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_KEY_CODES:
                raise missing from None
            raise
        try:
            plaintext, header = self._sdk.decrypt(source=body, key_provider=self._provider())
        except AWSEncryptionSDKClientError as exc:
            logs.logger.error("sealed object could not be decrypted", extra={"key": key, "reason": str(exc)[:200]})
            raise missing from None
        found = {k: v for k, v in header.encryption_context.items() if not k.startswith(_SDK_CONTEXT_PREFIX)}
        if found != context:
            logs.logger.warning("encryption context mismatch", extra={
                "key": key, "expected_tenant": context.get("tenant_id", ""), "found_tenant": found.get("tenant_id", ""),
                "found": {k: v for k, v in found.items() if k != "tenant_id"}})
            raise missing
        return plaintext

    def _provider(self) -> Any:
        """Built on first use: resolving an alias calls KMS, which an import must not do."""
        with self._provider_lock:
            if self._key_provider is None:
                self._key_provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[self._key_arn()])
            return self._key_provider

    def _key_arn(self) -> str:
        if self._kms_key_id.startswith("arn:") and ":key/" in self._kms_key_id:
            return self._kms_key_id
        kms = self._kms or boto3.client("kms", region_name=self._s3.meta.region_name)
        return kms.describe_key(KeyId=self._kms_key_id)["KeyMetadata"]["Arn"]
