"""Report schedules without AWS: fire times across DST and month ends, report periods, validation, tokens."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chalicelib.errors import ValidationFailed
from chalicelib.reports import schedules
from chalicelib.reports.schedules import (
    LAST_DAY,
    Recipient,
    Schedule,
    next_fire,
    parse_token,
    report_period,
    unsubscribe_token,
    validate,
)

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
MEMBERS = ["ada@acme.example", "Bob@Acme.example", *(f"m{i}@acme.example" for i in range(25))]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def schedule(frequency: str = "weekly", weekday: int | None = 0, day: int | None = None, hour: int = 8,
             timezone: str = BERLIN) -> Schedule:
    return Schedule(schedule_id="s" + "0" * 24, name="Weekly", frequency=frequency, weekday=weekday, day=day,
                    hour=hour, timezone=timezone, recipients=[Recipient("ada@acme.example", "t" * 32)],
                    sections=["kpis"], filters={}, enabled=True, created_by="ada@acme.example",
                    created_at="2026-01-01T00:00:00+00:00", next_run_at="2026-01-05T07:00:00+00:00")


def fires(s: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """Each fire time from ``start`` to ``end``, by feeding every result back in."""
    found, moment = [], start
    while (moment := next_fire(s, moment)) <= end:
        found.append(moment)
    return found


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


# -- next_fire: fixed cases ----------------------------------------------------------------
def test_berlin_monday_eight_is_seven_utc_in_winter_and_six_in_summer() -> None:
    s = schedule(weekday=0, hour=8)
    assert next_fire(s, at(2026, 1, 1)) == at(2026, 1, 5, 7)
    assert next_fire(s, at(2026, 7, 1)) == at(2026, 7, 6, 6)


def test_strictly_after_and_never_the_same_instant_twice() -> None:
    s = schedule(weekday=0, hour=8)
    assert next_fire(s, at(2026, 1, 5, 6, 59, 59)) == at(2026, 1, 5, 7)
    assert next_fire(s, at(2026, 1, 5, 7)) == at(2026, 1, 12, 7)
    with pytest.raises(ValueError):
        next_fire(s, datetime(2026, 1, 5, 7))


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK])
@pytest.mark.parametrize("hour", [0, 1, 2, 3, 8, 23])
@pytest.mark.parametrize("window", [(date(2026, 3, 1), date(2026, 4, 15)), (date(2026, 10, 10), date(2026, 11, 15))])
def test_one_fire_per_local_day_across_the_2026_changes(zone: str, hour: int, window: tuple[date, date]) -> None:
    """Seven weekly schedules, one per weekday, make a daily one: each local day fires exactly once, on the hour."""
    first, last = window
    start = datetime(first.year, first.month, first.day, tzinfo=ZoneInfo(zone)).astimezone(UTC) - timedelta(seconds=1)
    end = datetime(last.year, last.month, last.day, 23, 59, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    moments = sorted(m for weekday in range(7) for m in fires(schedule(weekday=weekday, hour=hour, timezone=zone),
                                                             start, end))
    days = [local(m, zone).date() for m in moments]
    assert days == [first + timedelta(days=i) for i in range((last - first).days + 1)]
    for moment in moments:
        wall = local(moment, zone)
        if (wall.hour, wall.minute) != (hour, 0):  # only the spring-forward gap moves a fire: to the gap's end
            assert hour == 2 and (wall.month, wall.weekday(), wall.hour, wall.minute) == (3, 6, 3, 0)
    assert len(set(moments)) == len(moments)


def test_two_oclock_on_the_spring_forward_sunday_fires_at_three_local() -> None:
    berlin = schedule(weekday=6, hour=2, timezone=BERLIN)
    moment = next_fire(berlin, at(2026, 3, 28))
    assert moment == at(2026, 3, 29, 1)
    assert local(moment, BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 3)
    assert next_fire(berlin, moment) == at(2026, 4, 5, 0)  # 02:00 CEST the week after
    new_york = schedule(weekday=6, hour=2, timezone=NEW_YORK)
    assert next_fire(new_york, at(2026, 3, 7)) == at(2026, 3, 8, 7)  # 03:00 EDT


def test_a_gap_skipping_a_whole_day_fires_when_the_next_day_starts() -> None:
    """Samoa skipped Friday 30 Dec 2011 to change sides of the date line."""
    moment = next_fire(schedule(weekday=4, hour=10, timezone="Pacific/Apia"), at(2011, 12, 25))
    assert local(moment, "Pacific/Apia").replace(tzinfo=None) == datetime(2011, 12, 31, 0, 0)


@pytest.mark.parametrize(("zone", "hour", "day", "first_utc"), [
    (BERLIN, 2, date(2026, 10, 25), at(2026, 10, 25, 0)),
    (NEW_YORK, 1, date(2026, 11, 1), at(2026, 11, 1, 5)),
    ("America/Santiago", 23, date(2026, 4, 4), at(2026, 4, 5, 2)),  # Saturday 23:00 comes twice
    ("America/Havana", 0, date(2026, 11, 1), at(2026, 11, 1, 4)),  # midnight comes twice
])
def test_an_hour_repeated_by_fall_back_fires_once_at_its_first_occurrence(zone: str, hour: int, day: date,
                                                                           first_utc: datetime) -> None:
    s = schedule(weekday=day.weekday(), hour=hour, timezone=zone)
    moment = next_fire(s, first_utc - timedelta(days=1))
    assert moment == first_utc and local(moment, zone).fold == 0
    second_occurrence = first_utc + timedelta(hours=1)
    assert local(second_occurrence, zone).hour == hour  # the wall clock shows the hour again...
    for after in (moment, first_utc + timedelta(minutes=30), second_occurrence - timedelta(seconds=1)):
        assert local(next_fire(s, after), zone).date() == day + timedelta(days=7)  # ...but it does not fire again


@pytest.mark.parametrize(("zone", "hour", "day", "wall"), [
    (BERLIN, 2, date(2026, 3, 29), datetime(2026, 3, 29, 3)),
    (NEW_YORK, 2, date(2026, 3, 8), datetime(2026, 3, 8, 3)),
    ("Australia/Lord_Howe", 2, date(2026, 10, 4), datetime(2026, 10, 4, 2, 30)),  # a half-hour change
    ("America/Santiago", 0, date(2026, 9, 6), datetime(2026, 9, 6, 1)),  # midnight does not exist
    ("America/Havana", 0, date(2026, 3, 8), datetime(2026, 3, 8, 1)),
    ("Asia/Gaza", 2, date(2026, 3, 28), datetime(2026, 3, 28, 3)),  # a Saturday change
    ("Pacific/Apia", 10, date(2011, 12, 30), datetime(2011, 12, 31, 0)),
])
def test_a_skipped_hour_fires_at_the_first_instant_after_the_gap(zone: str, hour: int, day: date,
                                                                 wall: datetime) -> None:
    s = schedule(weekday=day.weekday(), hour=hour, timezone=zone)
    after = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=2)
    moment = next_fire(s, after)
    assert local(moment, zone).replace(tzinfo=None) == wall
    assert local(moment - timedelta(seconds=1), zone).utcoffset() != local(moment, zone).utcoffset()
    _check(s, after)


# -- next_fire: months ---------------------------------------------------------------------
def test_last_day_of_the_month_through_a_leap_year() -> None:
    s = schedule(frequency="monthly", weekday=None, day=LAST_DAY, hour=8)
    days = [local(m, BERLIN).date() for m in fires(s, at(2027, 12, 15), at(2028, 12, 31, 12))]
    assert days == [date(2027, 12, 31), date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30),
                    date(2028, 5, 31), date(2028, 6, 30), date(2028, 7, 31), date(2028, 8, 31), date(2028, 9, 30),
                    date(2028, 10, 31), date(2028, 11, 30), date(2028, 12, 31)]
    assert local(next_fire(s, at(2026, 2, 1)), BERLIN).date() == date(2026, 2, 28)


def test_day_28_fires_every_month_including_february() -> None:
    s = schedule(frequency="monthly", weekday=None, day=28, hour=23, timezone=NEW_YORK)
    moments = fires(s, at(2026, 1, 1), at(2026, 12, 31))
    assert [(local(m, NEW_YORK).month, local(m, NEW_YORK).day, local(m, NEW_YORK).hour) for m in moments] == \
        [(month, 28, 23) for month in range(1, 13)]  # 23:00 on 28 Feb New York is 1 Mar in UTC
    assert moments[1] == at(2026, 3, 1, 4)


# -- report periods ------------------------------------------------------------------------
def test_weekly_period_is_the_seven_local_days_before_the_fire_day() -> None:
    s = schedule(weekday=0, hour=0)
    fired = next_fire(s, at(2026, 1, 1))
    assert fired == at(2026, 1, 4, 23)  # still Sunday in UTC: the local day counts
    assert report_period(s, fired) == (date(2025, 12, 29), date(2026, 1, 4))


def test_monthly_period_is_the_previous_local_calendar_month() -> None:
    s = schedule(frequency="monthly", weekday=None, day=1, hour=6)
    assert report_period(s, next_fire(s, at(2025, 12, 20))) == (date(2025, 12, 1), date(2025, 12, 31))
    assert report_period(s, next_fire(s, at(2028, 2, 20))) == (date(2028, 2, 1), date(2028, 2, 29))
    last = replace(s, day=LAST_DAY)
    assert report_period(last, next_fire(last, at(2026, 4, 1))) == (date(2026, 3, 1), date(2026, 3, 31))


# -- validation ----------------------------------------------------------------------------
def good(**changes: Any) -> dict[str, Any]:
    fields = {"name": "Monday numbers", "frequency": "weekly", "weekday": 0, "day": None, "hour": 8,
              "timezone": BERLIN, "recipients": ["ada@acme.example"], "sections": ["kpis", "trend"],
              "filters": {"Category": ["Bikes", "Camping"]}, "members": MEMBERS}
    return {**fields, **changes}


def refusal(**changes: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        validate(**good(**changes))
    return caught.value


def test_valid_fields_are_normalised() -> None:
    fields = validate(**good(timezone=" europe/berlin ", recipients=["ADA@acme.example", "bob@acme.example",
                                                                      "ada@ACME.example"],
                             sections=["trend", "kpis", "trend"], day=3))
    assert fields.timezone == BERLIN
    assert fields.recipients == ("ada@acme.example", "Bob@Acme.example")  # each once, as the member spells it
    assert fields.sections == ("trend", "kpis")
    assert fields.day is None and fields.weekday == 0
    monthly = validate(**good(frequency="monthly", weekday=3, day="last"))
    assert (monthly.weekday, monthly.day) == (None, LAST_DAY)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"timezone": "Europe/Berln"}, "timezone",
     "'Europe/Berln' is not a time zone; use an IANA name such as Europe/Berlin."),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "'Mars/Olympus_Mons' is not a time zone; use an IANA name"),
    ({"timezone": None}, "timezone", "Give the time zone the hour is in"),
    ({"recipients": ["ada@acme.example", "x@y.example"]}, "recipients",
     "x@y.example is not a member of your company: invite them first."),
    ({"recipients": []}, "recipients", "Add at least one recipient"),
    ({"recipients": "ada@acme.example"}, "recipients", "Recipients must be a list of e-mail addresses."),
    ({"recipients": [f"m{i}@acme.example" for i in range(21)]}, "recipients",
     "Send to at most 20 recipients; you chose 21."),
    ({"weekday": None}, "weekday", "A weekly schedule needs a weekday from 0 (Monday) to 6 (Sunday)."),
    ({"weekday": 7}, "weekday", "A weekly schedule needs a weekday"),
    ({"frequency": "monthly", "day": None}, "day", "A monthly schedule needs a day of the month from 1 to 28"),
    ({"frequency": "monthly", "day": 29}, "day", "A monthly schedule needs a day of the month from 1 to 28"),
    ({"frequency": "daily"}, "frequency", "Frequency must be 'weekly' or 'monthly'."),
    ({"hour": 24}, "hour", "Hour must be a whole number from 0 to 23."),
    ({"hour": True}, "hour", "Hour must be a whole number from 0 to 23."),
    ({"hour": "8"}, "hour", "Hour must be a whole number from 0 to 23."),
    ({"sections": ["kpis", "weather"]}, "sections", "'weather' is not a report section; choose from kpis, trend"),
    ({"sections": []}, "sections", "Choose at least one section"),
    ({"name": "  "}, "name", "Give the schedule a name of 1 to 100 characters."),
    ({"name": "x" * 101}, "name", "Give the schedule a name of 1 to 100 characters."),
    ({"filters": {"Category": "Bikes"}}, "filters", "Filters map up to 20 field names to lists of 1 to 1000 values"),
    ({"filters": {"Category": []}}, "filters", "Filters map up to 20 field names"),
])
def test_each_bad_input_is_refused_with_what_to_fix(changes: dict[str, Any], field: str, message: str) -> None:
    error = refusal(**changes)
    assert error.status == 400 and error.code == "validation_error"
    assert [d["field"] for d in error.details] == [field]
    assert error.details[0]["problem"].startswith(message)
    assert message in error.message


def test_duplicates_do_not_count_toward_the_recipient_limit() -> None:
    twenty = [f"m{i}@acme.example" for i in range(20)]
    assert len(validate(**good(recipients=twenty + [e.upper() for e in twenty])).recipients) == 20


def test_every_problem_is_listed_at_once() -> None:
    error = refusal(timezone="Nowhere", hour=-1, sections=["nope"], recipients=["eve@evil.example"])
    assert {d["field"] for d in error.details} == {"timezone", "hour", "sections", "recipients"}


def test_a_hostile_recipient_is_not_echoed_whole() -> None:
    error = refusal(recipients=["<script>" + "a" * 5000 + "@x.example"])
    assert len(error.message) < 300


# -- building and tokens -------------------------------------------------------------------
def test_new_schedule_has_fresh_id_secrets_and_next_run() -> None:
    fields = validate(**good(recipients=["ada@acme.example", "bob@acme.example"]))
    made = schedules.new_schedule(fields, "ada@acme.example", at(2026, 1, 1))
    again = schedules.new_schedule(fields, "ada@acme.example", at(2026, 1, 1))
    assert made.schedule_id != again.schedule_id and re.fullmatch(r"s[0-9a-f]{24}", made.schedule_id)
    tokens = {r.token for r in made.recipients + again.recipients}
    assert len(tokens) == 4 and all(len(t) == 32 for t in tokens)
    assert made.next_run_at == "2026-01-05T07:00:00+00:00" and made.enabled
    public = made.public()
    assert public["recipients"] == ["ada@acme.example", "Bob@Acme.example"]
    assert public["next_run_local"] == "2026-01-05T08:00+01:00"
    assert public["when"] == "Every Monday at 08:00 (Europe/Berlin)"
    assert not any(token in json.dumps(public) for token in tokens)


def test_an_edit_keeps_the_secret_of_recipients_who_stay() -> None:
    made = schedules.new_schedule(validate(**good(recipients=["ada@acme.example", "bob@acme.example"])),
                                  "ada@acme.example", at(2026, 1, 1))
    fields = validate(**good(recipients=["bob@acme.example", "m1@acme.example"], hour=9))
    edited = schedules.updated(made, fields, enabled=True, now=at(2026, 2, 1))
    assert edited.recipients[0] == made.recipients[1]
    assert edited.recipients[1].email == "m1@acme.example" and edited.recipients[1].token not in \
        {r.token for r in made.recipients}
    assert edited.next_run_at == "2026-02-02T08:00:00+00:00" and edited.schedule_id == made.schedule_id


def test_tokens_round_trip_and_anything_else_is_refused() -> None:
    made = schedules.new_schedule(validate(**good()), "ada@acme.example", at(2026, 1, 1))
    token = unsubscribe_token("0123abcd" * 4, made, made.recipients[0])
    assert parse_token(token) == ("0123abcd" * 4, made.schedule_id, made.recipients[0].token)
    tenant, sid, secret = token.split(".")
    for bad in ["", token + ".x", token + "\n", f"{tenant}.{sid}", f"{tenant}.{sid}.{secret[:-1]}",
                f"{tenant}.{sid}.{secret}A", f"{tenant}.S{sid[1:]}.{secret}", f"{tenant}.{sid[:-1]}g.{secret}",
                f"ten ant.{sid}.{secret}", f"{'t' * 65}.{sid}.{secret}", f"{tenant}.{sid}.{secret[:-1]}=",
                f"../x.{sid}.{secret}", None, 42, token.encode()]:
        assert parse_token(bad) is None, bad


# -- property: any zone, hour, weekday, start ---------------------------------------------
ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def _wall_exists(day: date, hour: int, zone: ZoneInfo) -> bool:
    wall = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
    return wall.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None)


def _is_match(s: Schedule, wall: datetime) -> bool:
    if s.frequency == "weekly":
        return wall.weekday() == s.weekday
    return wall.day == s.day if s.day != LAST_DAY else (wall + timedelta(days=1)).day == 1


def _check(s: Schedule, after: datetime) -> None:
    zone = ZoneInfo(s.timezone)
    moment = next_fire(s, after)
    assert moment > after and moment.tzinfo == UTC
    wall = moment.astimezone(zone)
    if (wall.hour, wall.minute, wall.second) == (s.hour, 0, 0):
        assert _is_match(s, wall) and wall.fold == 0  # the first occurrence of a repeated hour
    else:  # the hour asked did not exist that day: the fire is the first instant after the gap
        before = (moment - timedelta(seconds=1)).astimezone(zone)
        assert before.utcoffset() != wall.utcoffset()
        intended = [d for d in (wall.date(), wall.date() - timedelta(days=1))
                    if _is_match(s, datetime(d.year, d.month, d.day)) and not _wall_exists(d, s.hour, zone)]
        assert any(before.replace(tzinfo=None) < datetime(d.year, d.month, d.day, s.hour)
                   <= wall.replace(tzinfo=None) for d in intended)
    # Nothing earlier matched: step through the quarter hours in between (every offset since 1980 is a multiple).
    step = after.replace(second=0, microsecond=0) + timedelta(minutes=15 - after.minute % 15)
    while step < moment:
        seen = step.astimezone(zone)
        assert not ((seen.hour, seen.minute) == (s.hour, 0) and seen.fold == 0 and _is_match(s, seen)), seen
        step += timedelta(minutes=15)
    assert next_fire(s, moment - timedelta(seconds=1)) == moment
    assert next_fire(s, moment) > moment


starts = st.datetimes(min_value=datetime(1980, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zone=st.sampled_from(ZONES), hour=st.integers(0, 23), weekday=st.integers(0, 6), after=starts)
def test_weekly_fires_on_the_hour_and_weekday_asked(zone: str, hour: int, weekday: int, after: datetime) -> None:
    _check(schedule(weekday=weekday, hour=hour, timezone=zone), after)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zone=st.sampled_from(ZONES), hour=st.integers(0, 23), day=st.sampled_from([1, 15, 28, LAST_DAY]),
       after=starts)
def test_monthly_fires_on_the_hour_and_day_asked(zone: str, hour: int, day: int, after: datetime) -> None:
    _check(schedule(frequency="monthly", weekday=None, day=day, hour=hour, timezone=zone), after)


@settings(max_examples=100, deadline=None)
@given(zone=st.sampled_from([BERLIN, NEW_YORK, "Australia/Lord_Howe", "America/Santiago", "Asia/Tehran"]),
       hour=st.integers(0, 23), weekday=st.integers(0, 6), after=starts)
def test_dst_zones_fire_on_the_hour_and_weekday_asked(zone: str, hour: int, weekday: int, after: datetime) -> None:
    """The zones with changes at odd hours or by half an hour, sampled more often than the full list does."""
    _check(schedule(weekday=weekday, hour=hour, timezone=zone), after)


@cache
def _changes(zone_name: str, year: int) -> tuple[datetime, ...]:
    """The instants of ``year`` when the zone's offset changes: day steps, then bisection to the second."""
    zone, found = ZoneInfo(zone_name), []

    def offset(seconds: int) -> timedelta | None:
        return datetime.fromtimestamp(seconds, zone).utcoffset()

    day = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    for _ in range(366):
        low, high = day, day + 86400
        if offset(low) != offset(high):
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            found.append(datetime.fromtimestamp(high, UTC))
        day += 86400
    return tuple(found)


@st.composite
def near_a_change(draw: st.DrawFn) -> tuple[Schedule, datetime]:
    """A weekly schedule whose hour and weekday sit at a zone's offset change, and a start just before it."""
    zone = draw(st.sampled_from(ZONES))
    changes = _changes(zone, draw(st.integers(1980, 2050)))
    assume(changes)
    change = draw(st.sampled_from(changes))
    before, after = (change - timedelta(seconds=1)).astimezone(ZoneInfo(zone)), change.astimezone(ZoneInfo(zone))
    hour = draw(st.sampled_from(sorted({before.hour, after.hour, (after.hour + 23) % 24, before.hour + 1 if
                                        before.hour < 23 else 0})))
    weekday = draw(st.sampled_from(sorted({before.weekday(), after.weekday()})))
    start = change - timedelta(seconds=draw(st.integers(1, 8 * 86400)))
    return schedule(weekday=weekday, hour=hour, timezone=zone), start


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(case=near_a_change())
def test_fires_on_the_hour_asked_next_to_offset_changes(case: tuple[Schedule, datetime]) -> None:
    _check(*case)
