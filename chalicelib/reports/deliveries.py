"""Every report or alert that leaves SalesLens, by e-mail or webhook, sent and recorded in one place.

A delivery is logged whatever happens, with the number of attempts and the last error, so a company can see in
the portal what reached whom; nothing fails silently. Item layout (pk / sk):
  TENANT#<tid> / DELIVERY#<created_at>#<delivery_id>
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from chalicelib import logs
from chalicelib.mail import MailNotSent
from chalicelib.reports.outbound import WebhookSender
from chalicelib.tenancy import paging
from chalicelib.tenancy.store import tenant_pk, to_item

_PREFIX = "DELIVERY#"
RETENTION_DAYS = 400
ERROR_CHARS = 500


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    created_at: str
    channel: str  # "email" | "webhook"
    target: str  # an e-mail address, or a webhook's scheme://host/path (never its query string)
    kind: str  # "report" | "alert"
    subject: str
    status: str  # "sent" | "failed"
    attempts: int
    error: str = ""
    report_id: str = ""
    alert_key: str = ""

    @property
    def sk(self) -> str:
        return f"{_PREFIX}{self.created_at}#{self.delivery_id}"

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mimetype: str = "application/pdf"


def new_delivery(channel: str, target: str, kind: str, subject: str, **fields: Any) -> Delivery:
    """A delivery stamped now (milliseconds, so the log sorts by time) with a fresh id."""
    defaults: dict[str, Any] = {"status": "failed", "attempts": 0}
    return Delivery(uuid.uuid4().hex, datetime.now(UTC).isoformat(timespec="milliseconds"), channel, target, kind,
                    subject[:300], **{**defaults, **fields})


def webhook_target(url: str) -> str:
    """scheme://host[:port]/path of ``url``: the query string (and any fragment) may carry the receiver's token."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class DeliveryLog:
    """Delivery records in the tenant's partition, newest first; they expire after ``RETENTION_DAYS``."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    def record(self, tenant_id: str, delivery: Delivery) -> Delivery:
        item = {"pk": tenant_pk(tenant_id), "sk": delivery.sk, "tenant_id": tenant_id,
                "expires_at": int(time.time()) + RETENTION_DAYS * 86400, **asdict(delivery)}
        self._db.put_item(TableName=self._table, Item=to_item(item))
        logs.logger.info("delivery", extra={"tenant_id": tenant_id, "delivery_id": delivery.delivery_id,
                                            "channel": delivery.channel, "kind": delivery.kind,
                                            "status": delivery.status, "attempts": delivery.attempts})
        return delivery

    def page(self, tenant_id: str, limit: int = 50, next_token: str | None = None) -> dict[str, Any]:
        items, following = paging.newest_first(self._db, self._table, tenant_id, _PREFIX, limit, next_token,
                                               consistent=True)
        return {"deliveries": [_delivery(item).public() for item in items], "next": following}


def _delivery(item: dict[str, Any]) -> Delivery:
    return Delivery(delivery_id=item["delivery_id"], created_at=item["created_at"], channel=item["channel"],
                    target=item["target"], kind=item["kind"], subject=item.get("subject", ""),
                    status=item["status"], attempts=int(item.get("attempts", 0)), error=item.get("error", ""),
                    report_id=item.get("report_id", ""), alert_key=item.get("alert_key", ""))


class Courier:
    """Sends e-mails (through ``mailer``, retried on :class:`MailNotSent`) and webhooks (through ``sender``) and
    records each outcome in ``log``."""

    def __init__(self, mailer: Any, sender: WebhookSender, log: DeliveryLog,
                 sleep: Callable[[float], None] = time.sleep, mail_attempts: int = 3,
                 backoff: tuple[float, ...] = (1.0, 3.0)) -> None:
        self.mailer = mailer
        self.sender = sender
        self.log = log
        self.sleep = sleep
        self.mail_attempts = mail_attempts
        self.backoff = backoff

    def email(self, tenant_id: str, to: str, subject: str, text: str, kind: str,
              attachment: Attachment | None = None, headers: dict[str, str] | None = None, report_id: str = "",
              alert_key: str = "") -> Delivery:
        """Send one e-mail, trying up to ``mail_attempts`` times; the record says "sent" or why it failed.
        Extra ``headers`` travel only with an attachment (``SesMailer.send`` takes none)."""
        if headers and attachment is None:
            raise ValueError("extra e-mail headers need an attachment: SesMailer.send takes no headers")
        error, attempt = "", 0
        for attempt in range(1, self.mail_attempts + 1):
            if attempt > 1:
                self.sleep(self.backoff[min(attempt - 2, len(self.backoff) - 1)])
            try:
                self._send(to, subject, text, attachment, headers)
            except MailNotSent as exc:
                error = f"The e-mail service refused or could not be reached: {exc}"
                continue
            error = ""
            break
        delivery = new_delivery("email", to, kind, subject, status="failed" if error else "sent", attempts=attempt,
                                error=error[:ERROR_CHARS], report_id=report_id, alert_key=alert_key)
        return self.log.record(tenant_id, delivery)

    def webhook(self, tenant_id: str, url: str, secret: str, payload: dict[str, Any], kind: str, subject: str,
                alert_key: str = "", report_id: str = "") -> Delivery:
        """POST ``payload`` signed with ``secret``; the log's delivery id is the ``SalesLens-Delivery`` header."""
        delivery = new_delivery("webhook", webhook_target(url), kind, subject, report_id=report_id,
                                alert_key=alert_key)
        outcome = self.sender.deliver(url, secret, payload, delivery_id=delivery.delivery_id)
        return self.log.record(tenant_id, Delivery(**{**asdict(delivery), "status": outcome.status,
                                                      "attempts": outcome.attempts,
                                                      "error": outcome.error[:ERROR_CHARS]}))

    def _send(self, to: str, subject: str, text: str, attachment: Attachment | None,
              headers: dict[str, str] | None) -> None:
        if attachment is not None:
            self.mailer.send_with_attachment(to, subject, text, attachment.filename, attachment.data,
                                             attachment.mimetype, headers=headers)
        else:
            self.mailer.send(to, subject, text)
