"""Feedback from the portal: kept in the company's partition first, then e-mailed to support.

A failed e-mail never loses the feedback: the record is written before the send and says whether it went out.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib import logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.mail import MailNotSent, SesMailer
from chalicelib.tenancy import paging
from chalicelib.tenancy.service import Tenancy
from chalicelib.tenancy.store import tenant_pk, to_item

KINDS = ("idea", "problem", "question")
_PREFIX = "FEEDBACK#"


@dataclass(frozen=True)
class Feedback:
    feedback_id: str
    created_at: str
    user_id: str
    email: str
    kind: str
    message: str
    page: str = ""
    sent: bool = False

    @property
    def sk(self) -> str:
        return f"{_PREFIX}{self.created_at}#{self.feedback_id}"

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "user_id"}


class FeedbackStore:
    """Feedback items in the tenant's partition, newest first; deleted with the company like everything there."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    def put(self, tenant_id: str, feedback: Feedback) -> None:
        item = {"pk": tenant_pk(tenant_id), "sk": feedback.sk, "tenant_id": tenant_id, **asdict(feedback)}
        self._db.put_item(TableName=self._table, Item=to_item(item))

    def mark_sent(self, tenant_id: str, feedback: Feedback) -> None:
        self._db.update_item(TableName=self._table, Key=to_item({"pk": tenant_pk(tenant_id), "sk": feedback.sk}),
                             UpdateExpression="SET sent = :sent", ExpressionAttributeValues=to_item({":sent": True}),
                             ConditionExpression="attribute_exists(pk)")

    def page(self, tenant_id: str, limit: int = 50, next_token: str | None = None) -> dict[str, Any]:
        items, following = paging.newest_first(self._db, self._table, tenant_id, _PREFIX, limit, next_token,
                                               consistent=True)
        return {"feedback": [_feedback(item).public() for item in items], "next": following}


@dataclass(frozen=True)
class FeedbackDesk:
    """What taking feedback needs; built once by ``chalicelib.services``."""

    store: FeedbackStore
    mailer: SesMailer
    support_email: str


def submit(t: Tenancy, desk: FeedbackDesk, ctx: TenantContext, kind: str, message: str,
           page: str | None = None) -> Feedback:
    """Store the feedback, then try to e-mail support, then audit; ``sent`` says whether the e-mail went out."""
    feedback = Feedback(uuid.uuid4().hex, datetime.now(UTC).isoformat(timespec="milliseconds"), ctx.user_id,
                        ctx.email, kind, message, page or "")
    desk.store.put(ctx.tenant_id, feedback)
    tenant, member = t.store.get_tenant(ctx.tenant_id), t.store.get_member(ctx.tenant_id, ctx.user_id)
    company = tenant.name if tenant else ctx.tenant_id
    try:
        desk.mailer.send(desk.support_email, f"[SalesLens {kind}] from {company}",
                         _text(feedback, company, ctx, member.name if member else ""), reply_to=feedback.email)
    except MailNotSent as exc:
        logs.logger.warning("feedback not e-mailed", extra={"feedback_id": feedback.feedback_id,
                                                            "reason": str(exc)})
    else:
        desk.store.mark_sent(ctx.tenant_id, feedback)
        feedback = replace(feedback, sent=True)
    t.audit.record(ctx.tenant_id, "feedback_sent", ctx.email,
                   details={"feedback_id": feedback.feedback_id, "kind": kind, "emailed": feedback.sent})
    return feedback


def _text(feedback: Feedback, company: str, ctx: TenantContext, name: str) -> str:
    sender = f"{name} <{feedback.email}>" if name else feedback.email
    return "\n".join([
        f"{feedback.kind.capitalize()} from {sender} ({ctx.role}) at {company}",
        f"Company id: {ctx.tenant_id}",
        f"Page: {feedback.page or '(not given)'}",
        f"Sent: {feedback.created_at}  Feedback id: {feedback.feedback_id}  Correlation id: {logs.correlation_id()}",
        "",
        feedback.message,
        "",
    ])


def _feedback(item: dict[str, Any]) -> Feedback:
    return Feedback(feedback_id=item["feedback_id"], created_at=item["created_at"], user_id=item.get("user_id", ""),
                    email=item.get("email", ""), kind=item["kind"], message=item["message"],
                    page=item.get("page", ""), sent=bool(item.get("sent", False)))
