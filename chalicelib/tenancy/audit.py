"""Per-tenant audit log of security events, readable by admins through the API."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib import logs
from chalicelib.tenancy import paging
from chalicelib.tenancy.store import tenant_pk, to_item

EVENTS = frozenset({
    "signup", "login", "login_failed", "logout", "password_changed", "password_reset",
    "profile_updated", "member_invited", "invitation_revoked", "member_joined", "role_changed",
    "member_removed", "account_deleted", "tenant_renamed", "export_created", "tenant_deleted",
    "authorization_denied", "webhook_key_created", "webhook_key_rotated", "webhook_key_revoked",
    "analysis_requested", "feedback_sent", "report_requested", "report_downloaded", "report_schedule_created",
    "report_schedule_changed", "report_schedule_deleted", "alert_settings_changed", "alert_webhook_secret_rotated",
})
RETENTION_DAYS = 400


class AuditLog:
    """Writes audit events into the tenant's partition and pages through them newest first."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    def record(self, tenant_id: str, event: str, actor: str, outcome: str = "success",
               details: dict[str, Any] | None = None) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown audit event {event!r}")
        now = datetime.now(UTC)
        entry = {"at": now.isoformat(timespec="milliseconds"), "event": event, "actor": actor,
                 "outcome": outcome, "details": details or {}, "correlation_id": logs.correlation_id()}
        item = {"pk": tenant_pk(tenant_id), "sk": f"AUDIT#{entry['at']}#{uuid.uuid4().hex[:8]}",
                "expires_at": int(now.timestamp()) + RETENTION_DAYS * 86400, **entry}
        self._db.put_item(TableName=self._table, Item=to_item(item))
        logs.logger.info("audit", extra={"audit": {**entry, "tenant_id": tenant_id}})

    def page(self, tenant_id: str, limit: int = 50, next_token: str | None = None) -> dict[str, Any]:
        items, following = paging.newest_first(self._db, self._table, tenant_id, "AUDIT#", limit, next_token)
        events = [{k: v for k, v in item.items() if k not in ("pk", "sk", "expires_at")} for item in items]
        return {"events": _jsonable(events), "next": following}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: int(v) if v == int(v) else float(v)))
