"""Report schedules: what a company asked for, checked, and when it fires next (across DST changes).
They are stored by :mod:`chalicelib.reports.schedule_store`."""
from __future__ import annotations

import difflib
import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from chalicelib import errors
from chalicelib.query.explore_model import MAX_VALUES
from chalicelib.reports.sections import SECTIONS
from chalicelib.tenancy.preferences import _timezones

FREQUENCIES = ("weekly", "monthly")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LAST_DAY = -1
MAX_RECIPIENTS = 20
MAX_SCHEDULES = 50
MAX_NAME = 100
MAX_FILTER_FIELDS = 20
_TOKEN = re.compile(r"([A-Za-z0-9_-]{1,64})\.(s[0-9a-f]{24})\.([A-Za-z0-9_-]{32})")
_EMAIL_SHOWN = 100  # characters of a refused address repeated in a message
_HORIZON_DAYS = 70  # every weekly or monthly rule matches at least once in this many local days


class _When(Protocol):
    frequency: str
    weekday: int | None
    day: int | None
    hour: int
    timezone: str


@dataclass(frozen=True)
class Recipient:
    email: str
    token: str  # the unsubscribe secret: only ever leaves inside that recipient's own e-mail


@dataclass(frozen=True)
class ScheduleFields:
    """What a member chose, checked and normalised by :func:`validate`."""

    name: str
    frequency: str
    weekday: int | None
    day: int | None
    hour: int
    timezone: str
    recipients: tuple[str, ...]
    sections: tuple[str, ...]
    filters: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Schedule:
    schedule_id: str
    name: str
    frequency: str
    weekday: int | None
    day: int | None
    hour: int
    timezone: str
    recipients: list[Recipient]
    sections: list[str]
    filters: dict[str, list[str]]
    enabled: bool
    created_by: str
    created_at: str
    next_run_at: str
    last_run_at: str = ""
    last_report_id: str = ""

    def public(self) -> dict[str, Any]:
        """The portal's view: recipients as addresses only (their tokens are secrets), next run in local time too."""
        values = {k: v for k, v in asdict(self).items() if k != "recipients"}
        local = datetime.fromisoformat(self.next_run_at).astimezone(ZoneInfo(self.timezone))
        return {**values, "recipients": [r.email for r in self.recipients],
                "next_run_local": local.isoformat(timespec="minutes"), "when": describe(self)}


def iso(moment: datetime) -> str:
    """UTC to the second: the one spelling stored, so ISO strings compare in time order."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def describe(when: _When) -> str:
    """The rule in words, e.g. "Every Monday at 08:00 (Europe/Berlin)"."""
    if when.frequency == "weekly":
        days = f"Every {WEEKDAYS[when.weekday or 0]}"
    elif when.day == LAST_DAY:
        days = "On the last day of every month"
    else:
        days = f"On day {when.day} of every month"
    return f"{days} at {when.hour:02d}:00 ({when.timezone})"


# -- timing -------------------------------------------------------------------------------
def next_fire(when: _When, after: datetime) -> datetime:
    """The first ``hour:00`` local on a matching day strictly after ``after`` (aware), in UTC.

    A wall time skipped by a spring-forward gap fires at the first real instant after the gap; one repeated by a
    fall-back fires once, at its first occurrence. Strictly later, so feeding each result back never repeats one.
    """
    if after.tzinfo is None:
        raise ValueError("'after' must be an aware datetime")
    zone = ZoneInfo(when.timezone)
    start = after.astimezone(zone).date() - timedelta(days=2)  # a gap can push a day's fire into the next day
    days = (start + timedelta(days=i) for i in range(_HORIZON_DAYS))
    # The minimum, not the first: in zones that moved across the date line, local days and instants can disagree.
    found = [moment for moment in (_instant(day, when.hour, zone) for day in days if _matches(when, day))
             if moment > after]
    if not found:
        raise ValueError(f"no fire time within {_HORIZON_DAYS} days for {describe(when)}")
    return min(found)


def report_period(when: _When, fired_at: datetime) -> tuple[date, date]:
    """The days a report covers, both included: the 7 local days before the fire day, or the previous month.

    Pass the run's scheduled time (``next_run_at`` as read before the claim), not the moment the worker woke up.
    """
    fire_day = fired_at.astimezone(ZoneInfo(when.timezone)).date()
    if when.frequency == "weekly":
        return fire_day - timedelta(days=7), fire_day - timedelta(days=1)
    last = fire_day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _matches(when: _When, day: date) -> bool:
    if when.frequency == "weekly":
        return day.weekday() == when.weekday
    if when.day == LAST_DAY:
        return (day + timedelta(days=1)).day == 1
    return day.day == when.day


def _instant(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """``hour:00`` on ``day`` in ``zone`` as UTC; fold=0 is the first occurrence of an ambiguous wall time."""
    wall = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
    moment = wall.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return moment
    # In a gap. fold=0 reads the wall time with the offset from before the gap (landing after the transition),
    # fold=1 with the one after it (landing before): the transition, the gap's end, lies between. Search it.
    low, high = int(wall.replace(fold=1).timestamp()), int(moment.timestamp())
    naive = wall.replace(tzinfo=None)
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


# -- validation ---------------------------------------------------------------------------
def validate(*, name: Any, frequency: Any, hour: Any, timezone: Any, recipients: Any, sections: Any,
             members: Iterable[str], weekday: Any = None, day: Any = None, filters: Any = None) -> ScheduleFields:
    """The fields as the route received them, checked against the company's member e-mails.

    Raises ``ValidationFailed`` listing every problem, each with a sentence saying what to fix.
    """
    problems: list[dict[str, str]] = []

    def refuse(field_name: str, problem: str) -> None:
        problems.append({"field": field_name, "problem": problem})

    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > MAX_NAME:
        refuse("name", f"Give the schedule a name of 1 to {MAX_NAME} characters.")
    if frequency not in FREQUENCIES:
        refuse("frequency", "Frequency must be 'weekly' or 'monthly'.")
    if frequency == "weekly" and not _whole(weekday, 0, 6):
        refuse("weekday", "A weekly schedule needs a weekday from 0 (Monday) to 6 (Sunday).")
    day = LAST_DAY if day == "last" else day
    if frequency == "monthly" and not (_whole(day, 1, 28) or day == LAST_DAY):
        refuse("day", "A monthly schedule needs a day of the month from 1 to 28, or \"last\".")
    if not _whole(hour, 0, 23):
        refuse("hour", "Hour must be a whole number from 0 to 23.")
    zone = _zone_name(timezone)
    if zone is None:
        refuse("timezone", _zone_problem(timezone))
    chosen = _recipients(recipients, members, refuse)
    picked = _sections(sections, refuse)
    cleaned = _filters(filters, refuse)
    if problems:
        raise errors.ValidationFailed(" ".join(p["problem"] for p in problems), problems)
    return ScheduleFields(name=text, frequency=frequency, weekday=weekday if frequency == "weekly" else None,
                          day=day if frequency == "monthly" else None, hour=hour, timezone=zone or "UTC",
                          recipients=chosen, sections=picked, filters=cleaned)


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _zone_name(value: Any) -> str | None:
    return _timezones().get(value.strip().lower()) if isinstance(value, str) else None


def _zone_problem(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        return "Give the time zone the hour is in, as an IANA name such as Europe/Berlin."
    shown = value.strip()[:64]
    close = difflib.get_close_matches(shown, sorted(_timezones().values()), n=1, cutoff=0.75)
    return f"'{shown}' is not a time zone; use an IANA name such as {close[0] if close else 'Europe/Berlin'}."


def _recipients(values: Any, members: Iterable[str], refuse: Any) -> tuple[str, ...]:
    """Member addresses in the company's own spelling, each once, in the order given."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        refuse("recipients", "Recipients must be a list of e-mail addresses.")
        return ()
    known = {m.strip().lower(): m for m in members}
    chosen: dict[str, str] = {}
    for value in values:
        key = value.strip().lower()
        if key in known:
            chosen.setdefault(key, known[key])
        elif key:
            refuse("recipients", f"{value.strip()[:_EMAIL_SHOWN]} is not a member of your company: invite them first.")
    if not any(v.strip() for v in values):
        refuse("recipients", "Add at least one recipient: a member of your company.")
    if len(chosen) > MAX_RECIPIENTS:
        refuse("recipients", f"Send to at most {MAX_RECIPIENTS} recipients; you chose {len(chosen)}.")
    return tuple(chosen.values())


def _sections(values: Any, refuse: Any) -> tuple[str, ...]:
    if not isinstance(values, list) or not values:
        refuse("sections", f"Choose at least one section: {', '.join(SECTIONS)}.")
        return ()
    unknown = [v for v in values if v not in SECTIONS]
    for value in unknown:
        refuse("sections", f"'{str(value)[:64]}' is not a report section; choose from {', '.join(SECTIONS)}.")
    return tuple(dict.fromkeys(v for v in values if v in SECTIONS))


def _filters(values: Any, refuse: Any) -> dict[str, list[str]]:
    """Explore's "keep sales whose field is one of these values", checked for shape; the route checks the fields."""
    if values is None:
        return {}
    shape_ok = isinstance(values, dict) and all(
        isinstance(k, str) and 0 < len(k.strip()) <= 64 and isinstance(v, list) and 0 < len(v) <= MAX_VALUES
        and all(isinstance(x, str) and len(x) <= 200 for x in v) for k, v in values.items())
    if not shape_ok or len(values) > MAX_FILTER_FIELDS:
        refuse("filters", f"Filters map up to {MAX_FILTER_FIELDS} field names to lists of 1 to {MAX_VALUES} values "
                          "(text up to 200 characters), e.g. {\"Category\": [\"Bikes\"]}.")
        return {}
    return {k.strip(): list(dict.fromkeys(v)) for k, v in values.items()}


# -- building -----------------------------------------------------------------------------
def new_schedule(fields: ScheduleFields, created_by: str, now: datetime) -> Schedule:
    """A new enabled schedule with a fresh id and one unsubscribe secret per recipient."""
    return Schedule(schedule_id="s" + secrets.token_hex(12), name=fields.name, frequency=fields.frequency,
                    weekday=fields.weekday, day=fields.day, hour=fields.hour, timezone=fields.timezone,
                    recipients=[Recipient(email, _secret()) for email in fields.recipients],
                    sections=list(fields.sections), filters=dict(fields.filters), enabled=True,
                    created_by=created_by, created_at=iso(now), next_run_at=iso(next_fire(fields, now)))


def updated(schedule: Schedule, fields: ScheduleFields, enabled: bool, now: datetime) -> Schedule:
    """``schedule`` changed to ``fields``: recipients kept keep their secret, the next run is counted from now."""
    kept = {r.email.lower(): r for r in schedule.recipients}
    recipients = [kept.get(email.lower()) or Recipient(email, _secret()) for email in fields.recipients]
    return replace(schedule, name=fields.name, frequency=fields.frequency, weekday=fields.weekday, day=fields.day,
                   hour=fields.hour, timezone=fields.timezone, recipients=recipients, sections=list(fields.sections),
                   filters=dict(fields.filters), enabled=enabled, next_run_at=iso(next_fire(fields, now)))


def _secret() -> str:
    return secrets.token_urlsafe(24)


def unsubscribe_token(tenant_id: str, schedule: Schedule, recipient: Recipient) -> str:
    """What the unsubscribe link carries; it names the schedule, the secret proves the e-mail was received."""
    return f"{tenant_id}.{schedule.schedule_id}.{recipient.token}"


def parse_token(text: Any) -> tuple[str, str, str] | None:
    """(tenant_id, schedule_id, secret), or None unless every part has the exact shape we issue."""
    if not isinstance(text, str) or len(text) > 200:
        return None
    found = _TOKEN.fullmatch(text)
    return (found.group(1), found.group(2), found.group(3)) if found else None
