"""A company's alert settings (who hears about what, and where the webhook goes) and the ledger that sends each
alert once.

Item layout (pk / sk):
  TENANT#<tid> / ALERTSETTINGS     enabled, rules (JSON), email_to, webhook_url, the webhook secret as KMS
                                   ciphertext (encryption context names the tenant) and its last 4 characters
  TENANT#<tid> / ALERT#<key>       claimed by the run that sent the alert; expires after LEDGER_DAYS
"""
from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.errors import ValidationFailed
from chalicelib.reports.alerts import SEVERITIES, AlertRules
from chalicelib.reports.outbound import Resolver, check_webhook_url, resolve
from chalicelib.tenancy.store import get_item, is_conditional_failure, tenant_pk, to_item
from chalicelib.webhooks.secrets import new_secret, open_text, seal_text

SETTINGS_SK = "ALERTSETTINGS"
LEDGER_DAYS = 400  # longer than any lookback, so an old anomaly never comes back as new
MAX_RECIPIENTS = 50
PURPOSE = "alert_webhook"


@dataclass
class AlertSettings:
    enabled: bool = True
    rules: AlertRules = field(default_factory=AlertRules)
    email_to: list[str] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str = ""
    updated_by: str = ""
    updated_at: str = ""

    def public(self) -> dict[str, Any]:
        """What the portal shows: everything but the secret, of which only the last 4 characters."""
        shown = {k: v for k, v in asdict(self).items() if k != "webhook_secret"}
        return {**shown, "webhook_secret_hint": f"…{self.webhook_secret[-4:]}" if self.webhook_secret else ""}


def rules_from(values: dict[str, Any] | None) -> AlertRules:
    """:class:`AlertRules` from a JSON object, keeping defaults for what it leaves out and ignoring unknown keys."""
    known = AlertRules.__dataclass_fields__
    return AlertRules(**{k: v for k, v in (values or {}).items() if k in known})


def check_settings(settings: AlertSettings, member_emails: list[str], allow_loopback: bool = False,
                   resolver: Resolver = resolve) -> AlertSettings:
    """``settings`` with e-mails normalised, or :class:`ValidationFailed` listing everything to fix."""
    problems: list[dict[str, str]] = []
    members = {e.strip().lower() for e in member_emails}
    emails = list(dict.fromkeys(e.strip().lower() for e in settings.email_to))
    strangers = [e for e in emails if e not in members]
    if strangers:
        problems.append({"field": "email_to", "problem": "Alerts go to members of your company only; not members: "
                                                         + ", ".join(s[:100] for s in strangers[:5])})
    if len(emails) > MAX_RECIPIENTS:
        problems.append({"field": "email_to", "problem": f"Choose at most {MAX_RECIPIENTS} recipients."})
    rules = settings.rules
    if rules.min_severity not in SEVERITIES:
        problems.append({"field": "rules.min_severity", "problem": "Use low, medium or high."})
    if not _number(rules.churn_jump_share) or not 0 < rules.churn_jump_share <= 10:
        problems.append({"field": "rules.churn_jump_share",
                         "problem": "A share between 0 and 10 (0.2 means a 20% rise)."})
    if not _whole(rules.churn_jump_min) or not 1 <= rules.churn_jump_min <= 100_000:
        problems.append({"field": "rules.churn_jump_min", "problem": "A whole number of customers, at least 1."})
    if not _whole(rules.lookback_days) or not 1 <= rules.lookback_days <= 90:
        problems.append({"field": "rules.lookback_days", "problem": "A whole number of days from 1 to 90."})
    for name in ("anomalies", "forecast_miss", "churn_jump"):
        if not isinstance(getattr(rules, name), bool):
            problems.append({"field": f"rules.{name}", "problem": "true or false."})
    url = settings.webhook_url.strip()
    if url:
        try:
            url = check_webhook_url(url, allow_loopback, resolver)
        except ValidationFailed as exc:
            problems.append({"field": "webhook_url", "problem": exc.message})
    if problems:
        raise ValidationFailed("Some alert settings need fixing: " + "; ".join(p["field"] for p in problems) + ".",
                               problems)
    return replace(settings, email_to=emails, webhook_url=url)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class AlertSettingsStore:
    """One settings item per company; the webhook secret is never stored in clear and shown once, when made."""

    def __init__(self, dynamodb: Any, kms: Any, table_name: str, kms_key_id: str) -> None:
        self._db = dynamodb
        self._kms = kms
        self._table = table_name
        self._kms_key_id = kms_key_id

    def get(self, tenant_id: str) -> AlertSettings:
        """The company's settings (its secret decrypted, for sending); the defaults when it never saved any."""
        item = get_item(self._db, self._table, tenant_pk(tenant_id), SETTINGS_SK)
        if item is None:
            return AlertSettings()
        secret = self._decrypt(tenant_id, item["secret_ct"]) if item.get("secret_ct") else ""
        return AlertSettings(enabled=bool(item.get("enabled", True)), rules=rules_from(json.loads(item["rules"])),
                             email_to=list(item.get("email_to", [])), webhook_url=item.get("webhook_url", ""),
                             webhook_secret=secret, updated_by=item.get("updated_by", ""),
                             updated_at=item.get("updated_at", ""))

    def put(self, tenant_id: str, settings: AlertSettings) -> dict[str, Any]:
        """Save ``settings`` (already checked). The secret is never taken from the caller: the stored one is kept,
        a new one is made when a webhook URL is first set (and returned once, as ``webhook_secret``), and it is
        dropped with the URL."""
        secret = self.get(tenant_id).webhook_secret if settings.webhook_url else ""
        made = not secret and bool(settings.webhook_url)
        saved = self._save(tenant_id, replace(settings, webhook_secret=new_secret() if made else secret))
        return {**saved.public(), **({"webhook_secret": saved.webhook_secret} if made else {})}

    def rotate_secret(self, tenant_id: str, updated_by: str) -> dict[str, Any]:
        """A new webhook secret, returned once; the old one stops signing at once."""
        current = self.get(tenant_id)
        if not current.webhook_url:
            raise ValidationFailed("Set a webhook URL before rotating its secret.",
                                   [{"field": "webhook_url", "problem": "no webhook URL set"}])
        saved = self._save(tenant_id, replace(current, webhook_secret=new_secret(), updated_by=updated_by))
        return {**saved.public(), "webhook_secret": saved.webhook_secret}

    def _save(self, tenant_id: str, settings: AlertSettings) -> AlertSettings:
        settings = replace(settings, updated_at=datetime.now(UTC).isoformat(timespec="seconds"))
        item = {"pk": tenant_pk(tenant_id), "sk": SETTINGS_SK, "tenant_id": tenant_id, "enabled": settings.enabled,
                "rules": json.dumps(asdict(settings.rules)), "email_to": list(settings.email_to),
                "webhook_url": settings.webhook_url, "updated_by": settings.updated_by,
                "updated_at": settings.updated_at}
        if settings.webhook_secret:
            item.update(secret_ct=self._encrypt(tenant_id, settings.webhook_secret),
                        hint=settings.webhook_secret[-4:])
        self._db.put_item(TableName=self._table, Item=to_item(item))
        return settings

    # Sealed like the inbound webhook secrets; the context names the purpose instead of a key id.
    def _encrypt(self, tenant_id: str, secret: str) -> str:
        return seal_text(self._kms, self._kms_key_id, _context(tenant_id), secret)

    def _decrypt(self, tenant_id: str, ciphertext: str) -> str:
        return open_text(self._kms, self._kms_key_id, _context(tenant_id), base64.b64decode(ciphertext))


def _context(tenant_id: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "purpose": PURPOSE}


class AlertLedger:
    """Which alerts a company was already sent: a conditional put per alert key, so a re-run or a retried job
    message claims nothing twice."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    def claim(self, tenant_id: str, key: str, run_id: str) -> bool:
        """True for the first claim of ``key`` (go ahead and send), False when it was claimed before."""
        now = int(time.time())
        item = {"pk": tenant_pk(tenant_id), "sk": f"ALERT#{key}", "run_id": run_id,
                "claimed_at": datetime.now(UTC).isoformat(timespec="seconds"), "expires_at": now + LEDGER_DAYS * 86400}
        try:
            self._db.put_item(TableName=self._table, Item=to_item(item),
                              ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                              ExpressionAttributeValues=to_item({":now": now}))
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def release(self, tenant_id: str, key: str) -> None:
        """Forget a claim whose alert reached no one, so the next run tries again."""
        self._db.delete_item(TableName=self._table, Key=to_item({"pk": tenant_pk(tenant_id), "sk": f"ALERT#{key}"}))
