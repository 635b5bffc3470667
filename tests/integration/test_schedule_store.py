"""The schedule store against the real table in moto: CRUD, the hourly tick's due/claim, unsubscribe links."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import aws, errors
from chalicelib.config import get_settings
from chalicelib.reports.schedule_store import ScheduleStore
from chalicelib.reports.schedules import (
    MAX_SCHEDULES,
    Schedule,
    iso,
    new_schedule,
    next_fire,
    unsubscribe_token,
    validate,
)
from chalicelib.tenancy.store import get_item, tenant_pk

ACME, GLOBEX = "a" * 32, "b" * 32
MEMBERS = ["ada@acme.example", "bob@acme.example", "cy@acme.example"]
NOW = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)  # a Monday, 08:30 in Berlin


@pytest.fixture
def store(aws_env: dict[str, str]) -> ScheduleStore:
    return ScheduleStore(aws.client("dynamodb"), get_settings().table_name)


def make(name: str = "Monday numbers", created: datetime = NOW - timedelta(days=30), **changes: Any) -> Schedule:
    fields = {"name": name, "frequency": "weekly", "weekday": 0, "hour": 8, "timezone": "Europe/Berlin",
              "recipients": MEMBERS, "sections": ["kpis", "trend"], "filters": {"Category": ["Bikes"]},
              "members": MEMBERS, **changes}
    return new_schedule(validate(**fields), "ada@acme.example", created)


def raw(store: ScheduleStore, tenant_id: str, schedule: Schedule) -> dict[str, Any] | None:
    return get_item(aws.client("dynamodb"), get_settings().table_name, tenant_pk(tenant_id),
                    f"SCHEDULE#{schedule.schedule_id}")


def test_create_get_list_delete(store: ScheduleStore) -> None:
    first, second = make("First"), make("Second", created=NOW - timedelta(days=10), frequency="monthly", day=-1)
    store.create(ACME, first)
    store.create(ACME, second)
    assert store.get(ACME, first.schedule_id) == first
    assert store.get(ACME, second.schedule_id) == second and second.day == -1 and second.weekday is None
    assert store.list(ACME) == [first, second]
    assert store.list(GLOBEX) == [] and store.get(GLOBEX, first.schedule_id) is None
    assert store.get(ACME, "SCHEDULE#x") is None
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        store.create(ACME, first)  # a second create with the same id never overwrites

    paused = replace(first, enabled=False, name="First, paused")
    store.put(ACME, paused)
    assert store.get(ACME, first.schedule_id) == paused
    assert "gsi1pk" not in raw(store, ACME, paused)  # out of the due index while paused
    assert raw(store, ACME, second)["gsi1sk"] == second.next_run_at

    assert store.delete(ACME, first.schedule_id) is True
    assert store.delete(ACME, first.schedule_id) is False
    assert store.list(ACME) == [second]


def test_the_51st_schedule_is_refused(store: ScheduleStore) -> None:
    for i in range(MAX_SCHEDULES):
        store.create(ACME, make(f"Schedule {i}"))
    with pytest.raises(errors.Conflict) as refused:
        store.create(ACME, make("One too many"))
    assert refused.value.code == "too_many_schedules" and "50 report schedules" in refused.value.message
    assert len(store.list(ACME)) == MAX_SCHEDULES
    store.create(GLOBEX, make("Another company's first"))  # the limit is per company
    assert len(store.list(GLOBEX)) == 1


def test_due_finds_only_enabled_schedules_whose_time_has_come(store: ScheduleStore) -> None:
    due_acme = make("Due")  # made a month ago: its next run (a Monday 07:00 UTC) is long past
    later = make("Not yet", created=NOW)  # next Monday
    paused = replace(make("Paused"), enabled=False)
    due_globex = make("Globex due", frequency="monthly", day=1, hour=0)
    for tenant_id, schedule in [(ACME, due_acme), (ACME, later), (ACME, paused), (GLOBEX, due_globex)]:
        store.create(tenant_id, schedule)
    found = store.due(NOW)
    assert {(t, s.schedule_id) for t, s in found} == {(ACME, due_acme.schedule_id), (GLOBEX, due_globex.schedule_id)}
    assert dict((s.schedule_id, s) for _, s in found)[due_acme.schedule_id] == due_acme
    assert store.due(datetime.fromisoformat(later.next_run_at) - timedelta(seconds=1)) == found
    assert {s.schedule_id for _, s in store.due(datetime.fromisoformat(later.next_run_at))} == \
        {due_acme.schedule_id, due_globex.schedule_id, later.schedule_id}


def test_claim_wins_once_and_moves_the_next_run_forward(store: ScheduleStore) -> None:
    store.create(ACME, make())
    [(tenant_id, read)] = store.due(NOW)
    claimed = store.claim(tenant_id, read, NOW)
    assert claimed is not None and store.claim(tenant_id, read, NOW) is None  # the second tick lost
    assert claimed.next_run_at == iso(next_fire(read, NOW)) == "2026-01-12T07:00:00+00:00" > read.next_run_at
    assert claimed.last_run_at == iso(NOW) and claimed == store.get(ACME, read.schedule_id)
    assert raw(store, ACME, claimed)["gsi1sk"] == claimed.next_run_at
    assert store.due(NOW) == []
    assert [s.schedule_id for _, s in store.due(datetime(2026, 1, 12, 7, tzinfo=UTC))] == [read.schedule_id]


def test_a_schedule_paused_after_the_read_is_not_claimed(store: ScheduleStore) -> None:
    store.create(ACME, make())
    [(_, read)] = store.due(NOW)
    store.put(ACME, replace(read, enabled=False))
    assert store.claim(ACME, read, NOW) is None
    assert store.get(ACME, read.schedule_id).last_run_at == ""


def test_record_report(store: ScheduleStore) -> None:
    schedule = make()
    store.create(ACME, schedule)
    assert store.record_report(ACME, schedule.schedule_id, "r123") is True
    assert store.get(ACME, schedule.schedule_id).last_report_id == "r123"
    store.delete(ACME, schedule.schedule_id)
    assert store.record_report(ACME, schedule.schedule_id, "r124") is False
    assert raw(store, ACME, schedule) is None  # not brought back as a stub


def test_unsubscribe_removes_only_that_recipient(store: ScheduleStore) -> None:
    schedule, other = make(), make("Other")
    store.create(ACME, schedule)
    store.create(ACME, other)
    ada, bob, cy = schedule.recipients
    assert store.unsubscribe(unsubscribe_token(ACME, schedule, bob)) == (ACME, schedule.schedule_id, bob.email)
    after = store.get(ACME, schedule.schedule_id)
    assert after == replace(schedule, recipients=[ada, cy])
    assert store.get(ACME, other.schedule_id) == other  # bob still gets the other schedule
    assert store.unsubscribe(unsubscribe_token(ACME, schedule, bob)) is None  # a second click: nothing to do


def test_forged_or_foreign_tokens_change_nothing(store: ScheduleStore) -> None:
    schedule = make()
    store.create(ACME, schedule)
    store.create(GLOBEX, replace(make("Globex"), schedule_id="s" + "9" * 24))
    ada = schedule.recipients[0]
    real = unsubscribe_token(ACME, schedule, ada)
    forged = [real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB"),  # right shape, wrong secret
              f"{GLOBEX}.{schedule.schedule_id}.{ada.token}",  # another company naming this schedule
              f"{ACME}.s{'9' * 24}.{ada.token}",  # this company, another schedule
              real + "x", real.replace(".", "#"), ""]
    for token in forged:
        assert store.unsubscribe(token) is None, token
    assert store.get(ACME, schedule.schedule_id) == schedule


def test_the_last_recipient_leaving_pauses_the_schedule(store: ScheduleStore) -> None:
    schedule = make(recipients=["ada@acme.example"])
    store.create(ACME, schedule)
    assert store.unsubscribe(unsubscribe_token(ACME, schedule, schedule.recipients[0])) is not None
    after = store.get(ACME, schedule.schedule_id)
    assert after.recipients == [] and after.enabled is False
    assert store.due(NOW) == []


def test_an_edit_made_from_a_stale_read_does_not_bring_back_an_unsubscribed_recipient(store: ScheduleStore) -> None:
    schedule = make()
    store.create(ACME, schedule)
    read = store.get(ACME, schedule.schedule_id)
    store.unsubscribe(unsubscribe_token(ACME, schedule, schedule.recipients[1]))
    with pytest.raises(errors.Conflict):
        store.put(ACME, replace(read, name="Renamed"), read=read)
    fresh = store.get(ACME, schedule.schedule_id)
    store.put(ACME, replace(fresh, name="Renamed"), read=fresh)
    assert [r.email for r in store.get(ACME, schedule.schedule_id).recipients] == ["ada@acme.example",
                                                                                   "cy@acme.example"]


class RacingStore(ScheduleStore):
    """Removes cy from the schedule right after the first read, as a member leaving at that moment would."""

    raced = False

    def get(self, tenant_id: str, schedule_id: str) -> Schedule | None:
        found = super().get(tenant_id, schedule_id)
        if not self.raced:
            self.raced = True
            ScheduleStore(self._db, self._table).remove_recipient_everywhere(tenant_id, "CY@acme.example")
        return found


def test_unsubscribe_retries_when_the_recipients_changed_meanwhile(aws_env: dict[str, str]) -> None:
    plain = ScheduleStore(aws.client("dynamodb"), get_settings().table_name)
    schedule = make()
    plain.create(ACME, schedule)
    racing = RacingStore(aws.client("dynamodb"), get_settings().table_name)
    assert racing.unsubscribe(unsubscribe_token(ACME, schedule, schedule.recipients[1])) is not None
    assert racing.raced
    assert plain.get(ACME, schedule.schedule_id).recipients == [schedule.recipients[0]]  # both changes kept


def test_remove_recipient_everywhere(store: ScheduleStore) -> None:
    one, two, three = make("One"), make("Two", recipients=["ada@acme.example"]), make("Three")
    for schedule in (one, two, three):
        store.create(ACME, schedule)
    store.create(GLOBEX, make("Globex"))
    assert store.remove_recipient_everywhere(ACME, "Bob@ACME.example") == 2
    assert {s.name: [r.email for r in s.recipients] for s in store.list(ACME)} == {
        "One": ["ada@acme.example", "cy@acme.example"], "Two": ["ada@acme.example"],
        "Three": ["ada@acme.example", "cy@acme.example"]}
    assert len(store.list(GLOBEX)[0].recipients) == 3
