"""Report schedules in DynamoDB.

Item layout (pk / sk):
  TENANT#<tid> / SCHEDULE#<sid>   the schedule; in ``gsi1`` as ``SCHEDULEDUE / <next_run_at>`` only while it is
                                  enabled, so the hourly tick queries the due ones instead of scanning the table
                                  (every schedule shares that one index partition: fine for the tens of thousands a
                                  deployment has); ``recipients_fp`` fingerprints the recipient list so concurrent
                                  edits of it (unsubscribe, member left, portal edit) never clobber each other
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import asdict
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import errors
from chalicelib.reports.schedules import (
    MAX_SCHEDULES,
    Recipient,
    Schedule,
    iso,
    next_fire,
    parse_token,
)
from chalicelib.tenancy.store import from_item, get_item, is_conditional_failure, query_items, tenant_pk, to_item

_PREFIX = "SCHEDULE#"
_DUE = "SCHEDULEDUE"  # gsi1's partition of enabled schedules, sorted by their next run
_SCHEDULE_ID = re.compile(r"s[0-9a-f]{24}")
_RETRIES = 5  # conditional rewrites of a recipient list before giving up (only under a storm of edits)


def _fingerprint(recipients: list[Recipient]) -> str:
    return hashlib.sha256("\n".join(f"{r.email}\t{r.token}" for r in recipients).encode()).hexdigest()


# -- storage ------------------------------------------------------------------------------
class ScheduleStore:
    """Schedules in their company's partition; ``due`` and ``claim`` serve the hourly tick, which may run twice."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    def create(self, tenant_id: str, schedule: Schedule) -> None:
        if len(self.list(tenant_id)) >= MAX_SCHEDULES:
            raise errors.Conflict(f"Your company already has {MAX_SCHEDULES} report schedules. "
                                  "Delete one you no longer need first.", code="too_many_schedules")
        self._db.put_item(TableName=self._table, Item=to_item(_values(tenant_id, schedule)),
                          ConditionExpression="attribute_not_exists(pk)")

    def put(self, tenant_id: str, schedule: Schedule, read: Schedule | None = None) -> None:
        """Write ``schedule``; with ``read`` (the version it was edited from), refuse if its recipients changed since
        (someone unsubscribed meanwhile) instead of bringing them back."""
        condition: dict[str, Any] = {}
        if read is not None:
            condition = {"ConditionExpression": "recipients_fp = :fp",
                         "ExpressionAttributeValues": to_item({":fp": _fingerprint(read.recipients)})}
        try:
            self._db.put_item(TableName=self._table, Item=to_item(_values(tenant_id, schedule)), **condition)
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise errors.Conflict("This schedule changed meanwhile (a recipient unsubscribed, or it was deleted). "
                                      "Reload it and save again.", code="concurrent_change") from None
            raise

    def get(self, tenant_id: str, schedule_id: str) -> Schedule | None:
        if not _SCHEDULE_ID.fullmatch(schedule_id):
            return None
        item = get_item(self._db, self._table, tenant_pk(tenant_id), _PREFIX + schedule_id)
        return _schedule(item) if item else None

    def list(self, tenant_id: str) -> list[Schedule]:
        found = [_schedule(item) for item in query_items(self._db, self._table, tenant_pk(tenant_id), _PREFIX)]
        return sorted(found, key=lambda s: (s.created_at, s.schedule_id))

    def delete(self, tenant_id: str, schedule_id: str) -> bool:
        """Whether there was such a schedule."""
        old = self._db.delete_item(TableName=self._table, Key=_key(tenant_id, schedule_id), ReturnValues="ALL_OLD")
        return bool(old.get("Attributes"))

    def due(self, now: datetime) -> list[tuple[str, Schedule]]:
        """(tenant_id, schedule) of every enabled schedule whose next run is at or before ``now``."""
        found = []
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table, IndexName="gsi1",  # eventually consistent: a stale read only loses its claim
            KeyConditionExpression="gsi1pk = :due AND gsi1sk <= :now",
            ExpressionAttributeValues=to_item({":due": _DUE, ":now": iso(now)}))
        for page in pages:
            for raw in page.get("Items", []):
                item = from_item(raw)
                found.append((item["pk"].removeprefix(tenant_pk("")), _schedule(item)))
        return sorted(found, key=lambda pair: pair[1].next_run_at)

    def claim(self, tenant_id: str, schedule: Schedule, now: datetime) -> Schedule | None:
        """Move the next run past ``now`` if nobody did since ``schedule`` was read; the winner sends the report."""
        following = iso(next_fire(schedule, now))
        try:
            result = self._db.update_item(
                TableName=self._table, Key=_key(tenant_id, schedule.schedule_id),
                UpdateExpression="SET next_run_at = :next, gsi1sk = :next, last_run_at = :now",
                ConditionExpression="next_run_at = :read AND enabled = :on",
                ExpressionAttributeValues=to_item({":next": following, ":now": iso(now),
                                                   ":read": schedule.next_run_at, ":on": True}),
                ReturnValues="ALL_NEW")
        except ClientError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return _schedule(from_item(result["Attributes"]))

    def record_report(self, tenant_id: str, schedule_id: str, report_id: str) -> bool:
        """Remember the latest report; False if the schedule was deleted meanwhile."""
        try:
            self._db.update_item(TableName=self._table, Key=_key(tenant_id, schedule_id),
                                 UpdateExpression="SET last_report_id = :r", ConditionExpression="attribute_exists(pk)",
                                 ExpressionAttributeValues=to_item({":r": report_id}))
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def unsubscribe(self, token: str) -> tuple[str, str, str] | None:
        """(tenant_id, schedule_id, email) of the recipient the token's secret belongs to, now removed; None for a
        token that is malformed, forged, or names a schedule that is gone or not in that company."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        tenant_id, schedule_id, secret = parsed
        for _ in range(_RETRIES):
            schedule = self.get(tenant_id, schedule_id)
            if schedule is None:
                return None
            owner = None
            for recipient in schedule.recipients:  # compare with every one, so timing tells nothing
                if hmac.compare_digest(recipient.token.encode(), secret.encode()):
                    owner = recipient
            if owner is None:
                return None
            if self._set_recipients(tenant_id, schedule, [r for r in schedule.recipients if r is not owner]):
                return tenant_id, schedule_id, owner.email
        raise errors.Conflict("The schedule kept changing while we removed you. Open the link again.",
                              code="concurrent_change")

    def remove_recipient_everywhere(self, tenant_id: str, email: str) -> int:
        """Take a member who left off every schedule of the company; how many schedules changed."""
        changed = 0
        for schedule in self.list(tenant_id):
            for _ in range(_RETRIES):
                current = self.get(tenant_id, schedule.schedule_id)
                if current is None or not any(r.email.lower() == email.lower() for r in current.recipients):
                    break
                if self._set_recipients(tenant_id, current,
                                        [r for r in current.recipients if r.email.lower() != email.lower()]):
                    changed += 1
                    break
        return changed

    def _set_recipients(self, tenant_id: str, schedule: Schedule, recipients: list[Recipient]) -> bool:
        """Replace the recipients if nobody changed them since ``schedule`` was read; nobody left pauses it."""
        update = "SET recipients = :new, recipients_fp = :new_fp"
        values: dict[str, Any] = {":new": [asdict(r) for r in recipients], ":new_fp": _fingerprint(recipients),
                                  ":old_fp": _fingerprint(schedule.recipients)}
        if not recipients:
            update += ", enabled = :off REMOVE gsi1pk, gsi1sk"
            values[":off"] = False
        try:
            self._db.update_item(TableName=self._table, Key=_key(tenant_id, schedule.schedule_id),
                                 UpdateExpression=update, ConditionExpression="recipients_fp = :old_fp",
                                 ExpressionAttributeValues=to_item(values))
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True


def _key(tenant_id: str, schedule_id: str) -> dict[str, Any]:
    return to_item({"pk": tenant_pk(tenant_id), "sk": _PREFIX + schedule_id})


def _values(tenant_id: str, schedule: Schedule) -> dict[str, Any]:
    values = {"pk": tenant_pk(tenant_id), "sk": _PREFIX + schedule.schedule_id, "tenant_id": tenant_id,
              **asdict(schedule), "recipients_fp": _fingerprint(schedule.recipients)}
    if schedule.enabled:
        values.update(gsi1pk=_DUE, gsi1sk=schedule.next_run_at)
    return values


def _schedule(item: dict[str, Any]) -> Schedule:
    def number(name: str) -> int | None:
        return None if item.get(name) is None else int(item[name])

    return Schedule(schedule_id=item["schedule_id"], name=item["name"], frequency=item["frequency"],
                    weekday=number("weekday"), day=number("day"), hour=int(item["hour"]), timezone=item["timezone"],
                    recipients=[Recipient(r["email"], r["token"]) for r in item.get("recipients", [])],
                    sections=list(item.get("sections", [])),
                    filters={k: list(v) for k, v in item.get("filters", {}).items()},
                    enabled=bool(item["enabled"]), created_by=item.get("created_by", ""),
                    created_at=item.get("created_at", ""), next_run_at=item["next_run_at"],
                    last_run_at=item.get("last_run_at", ""), last_report_id=item.get("last_report_id", ""))
