"""The Explore service over an in-memory lake: date presets, comparisons (event-aligned included), answers in
words, the cache and the scan guard."""
from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from chalicelib import errors
from chalicelib.explore import dates
from chalicelib.explore.rollups import LakeState
from chalicelib.explore.service import Explore
from chalicelib.query.explore_model import Compare, DateRange, ExploreQuery, RowsQuery
from tests.unit.duck_lake import ACME, DuckLake, planted_sales

SALES = planted_sales().assign(store=lambda f: np.where(f.index % 3 == 0, "Harbour St", "Mill Lane"))
LAKE = DuckLake({"transactions": SALES})


class FakeRollups:
    """The lake's state as the service sees it; tests change ``version`` to play a new commit."""

    def __init__(self) -> None:
        self.version = ("b1", "b2")

    def state(self, ctx: Any) -> LakeState:
        return LakeState(self.version, self.version, (), ())

    def sync(self, ctx: Any, state: LakeState | None = None) -> LakeState:
        return self.state(ctx)

    def extra_columns(self, ctx: Any) -> list[str]:
        return ["store"]


def service(**kwargs: Any) -> Explore:
    return Explore(LAKE.engine(), FakeRollups(), **kwargs)


def ask(explore: Explore, **body: Any) -> dict[str, Any]:
    return explore.explore(ACME, ExploreQuery(**body))


def revenue_on(day: str) -> float:
    rows = SALES[(SALES["ts"].dt.strftime("%Y-%m-%d") == day) & ~SALES["is_return"]]
    return float(rows["amount"].sum())


def test_presets_are_anchored_on_the_latest_sale() -> None:
    first, last = date(2024, 1, 1), date(2026, 1, 30)
    assert dates.resolve(DateRange(preset="last_7_days"), first, last) == dates.Span(date(2026, 1, 24), last)
    assert dates.resolve(DateRange(preset="month_to_date"), first, last) == dates.Span(date(2026, 1, 1), last)
    assert dates.resolve(DateRange(preset="previous_quarter"), first, last) == dates.Span(date(2025, 10, 1),
                                                                                          date(2025, 12, 31))
    assert dates.resolve(DateRange(preset="previous_month"), first, last) == dates.Span(date(2025, 12, 1),
                                                                                        date(2025, 12, 31))
    assert dates.resolve(None, first, last) == dates.Span(first, last)


@pytest.mark.parametrize(("mode", "event", "previous"), [
    ("previous_year", None, (date(2024, 11, 28), date(2024, 11, 28))),
    ("same_weekday", None, (date(2024, 11, 29), date(2024, 11, 29))),
    ("event", "black_friday", (date(2024, 11, 29), date(2024, 11, 29))),
    ("previous_period", None, (date(2025, 11, 27), date(2025, 11, 27))),
])
def test_comparison_ranges(mode: str, event: str | None, previous: tuple[date, date]) -> None:
    span = dates.Span(date(2025, 11, 28), date(2025, 11, 28))
    assert dates.comparison(span, Compare(mode=mode, event=event))[0] == dates.Span(*previous)


def test_event_alignment_follows_movable_feasts_a_fixed_shift_misses() -> None:
    easter_week = dates.Span(date(2025, 4, 14), date(2025, 4, 27))  # Easter Sunday 20 Apr 2025; 31 Mar 2024
    before, _ = dates.comparison(easter_week, Compare(mode="event", event="easter"))
    assert before == dates.Span(date(2024, 3, 25), date(2024, 4, 7))
    february = dates.Span(date(2025, 2, 1), date(2025, 2, 28))
    assert dates.comparison(february, Compare(mode="previous_period"))[0] == dates.Span(date(2025, 1, 1),
                                                                                        date(2025, 1, 31))


def test_black_friday_compares_with_last_black_friday_not_the_same_date() -> None:
    explore = service()
    body = dict(measures=["revenue"], dimensions=["day"], date={"start": "2025-11-28", "end": "2025-11-28"})
    aligned = ask(explore, **body, compare={"mode": "event", "event": "black_friday"})["rows"][0]
    assert aligned["revenue"] == pytest.approx(revenue_on("2025-11-28"))
    assert aligned["revenue_previous"] == pytest.approx(revenue_on("2024-11-29"))  # last year's spike
    naive = ask(explore, **body, compare={"mode": "previous_year"})["rows"][0]
    assert naive["revenue_previous"] == pytest.approx(revenue_on("2024-11-28"))
    assert aligned["revenue_change_pct"] == pytest.approx(
        revenue_on("2025-11-28") / revenue_on("2024-11-29") - 1, abs=1e-6)


def test_weekly_compare_with_previous_period_meets_bucket_to_bucket() -> None:
    answer = ask(service(), measures=["revenue", "orders"], dimensions=["week"],
                 date={"start": "2025-03-03", "end": "2025-03-30"}, compare={"mode": "previous_period"})
    assert answer["meta"]["compare"]["start"] == "2025-02-03"
    first = answer["rows"][0]
    assert first["week"] == "2025-03-03"
    week = SALES[(SALES["ts"] >= "2025-02-03") & (SALES["ts"] < "2025-02-10") & ~SALES["is_return"]]
    assert first["revenue_previous"] == pytest.approx(week["amount"].sum())
    assert first["orders_previous"] == week["order_id"].nunique()


def test_sunday_weeks_compare_with_the_sunday_weeks_a_year_before() -> None:
    answer = ask(service(), measures=["revenue"], dimensions=["week"], week_start="sunday",
                 date={"start": "2025-03-02", "end": "2025-03-29"}, compare={"mode": "same_weekday"})
    weeks = [row["week"] for row in answer["rows"]]
    assert weeks == ["2025-03-02", "2025-03-09", "2025-03-16", "2025-03-23"]
    week = SALES[(SALES["ts"] >= "2024-03-03") & (SALES["ts"] < "2024-03-10") & ~SALES["is_return"]]
    assert answer["rows"][0]["revenue_previous"] == pytest.approx(week["amount"].sum())


def test_an_empty_answer_says_why_in_words() -> None:
    answer = ask(service(), measures=["revenue"], date={"start": "2025-03-01", "end": "2025-03-31"},
                 filters=[{"field": "product", "values": ["Tent Pro"]}, {"field": "region", "values": ["Mars"]}])
    assert answer["rows"] == []
    assert answer["message"] == "No sales of Tent Pro in Mars between 1 Mar 2025 and 31 Mar 2025."


def test_answers_name_their_data_and_are_cached_until_the_lake_changes() -> None:
    rollups = FakeRollups()
    explore = Explore(LAKE.engine(), rollups)
    first = explore.explore(ACME, ExploreQuery(measures=["revenue"], dimensions=["year"]))
    meta = first["meta"]
    assert meta["source"] == "rollup" and meta["currency"] == "EUR" and meta["batches"] == 2
    assert meta["lines"] == len(SALES) and meta["date_range"]["start"] == "2024-01-01" and not meta["cached"]
    assert explore.explore(ACME, ExploreQuery(measures=["revenue"], dimensions=["year"]))["meta"]["cached"]
    rollups.version = ("b1", "b2", "b3")
    assert not explore.explore(ACME, ExploreQuery(measures=["revenue"], dimensions=["year"]))["meta"]["cached"]


def test_a_question_that_would_scan_too_many_lines_is_refused_with_advice() -> None:
    explore = service(max_scan_lines=1000)
    assert ask(explore, measures=["revenue"], dimensions=["month"])["rows"]  # the rollup answers
    with pytest.raises(errors.ValidationFailed, match="Narrow the date range"):
        ask(explore, measures=["customers"])
    assert ask(explore, measures=["customers"], date={"start": "2025-01-01", "end": "2025-01-31"})["rows"]


def test_rows_page_and_csv() -> None:
    explore = service()
    query = dict(filters=[{"field": "category", "values": ["Food"]}], date={"preset": "last_30_days"})
    page = explore.rows(ACME, RowsQuery(**query, limit=5))
    assert len(page["rows"]) == 5 and page["columns"][:3] == ["order_id", "ts", "customer_id"]
    csv = explore.rows(ACME, RowsQuery(**query, format="csv"))
    assert isinstance(csv, str) and len(csv.strip().splitlines()) == page["total_rows"] + 1


def test_fields_without_traffic_offer_no_conversion() -> None:
    fields = service().fields(ACME)
    assert "conversion" not in {m["name"] for m in fields["measures"]}
    assert "segment" not in {d["name"] for d in fields["dimensions"]}  # no analysis labels yet
    with pytest.raises(errors.ValidationFailed) as refused:
        ask(service(), measures=["conversion"])
    assert "revenue" in refused.value.details[0]["valid"]


def test_the_companys_own_columns_split_filter_search_and_show_in_rows() -> None:
    explore = service()
    fields = {d["name"]: d for d in explore.fields(ACME)["dimensions"]}
    assert fields["extra:store"]["label"] == "store"
    answer = ask(explore, measures=["revenue", "orders"], dimensions=["extra:store"],
                 filters=[{"field": "category", "values": ["Tents"]}], compare={"mode": "previous_year"},
                 date={"start": "2025-01-01", "end": "2025-06-30"})
    assert [c["name"] for c in answer["columns"]][:2] == ["extra:store", "revenue"]
    window = SALES[(SALES["ts"] >= "2025-01-01") & (SALES["ts"] < "2025-07-01") & (SALES["category"] == "Tents")]
    expected = window[~window["is_return"]].groupby("store")["amount"].sum()
    assert {r["extra:store"]: r["revenue"] for r in answer["rows"]} == pytest.approx(expected.round(2).to_dict())
    assert all(r["revenue_previous"] for r in answer["rows"])
    only = ask(explore, measures=["revenue"], filters=[{"field": "extra:store", "values": ["Harbour St"]}])
    assert only["rows"][0]["revenue"] == pytest.approx(
        SALES[~SALES["is_return"] & (SALES["store"] == "Harbour St")]["amount"].sum())
    assert [v["value"] for v in explore.values(ACME, "extra:store", "mill", 20)["values"]] == ["Mill Lane"]
    rows = explore.rows(ACME, RowsQuery(filters=[{"field": "extra:store", "values": ["Mill Lane"]}], limit=3))
    assert [r["store"] for r in rows["rows"]] == ["Mill Lane"] * 3 and "extras" not in rows["columns"]
    empty = ask(explore, measures=["revenue"], filters=[{"field": "extra:store", "values": ["Nowhere"]}])
    assert empty["message"].startswith("No sales with store Nowhere")


def test_conversion_is_offered_with_traffic_and_split_by_time_only() -> None:
    from chalicelib.explore.profile import Profile

    profile = Profile(first_day=date(2025, 1, 1), last_day=date(2025, 3, 1), lines=10, batches=1, currencies=("EUR",),
                      known_values={"category": 3}, customers=5, traffic_days=59)
    assert "conversion" in profile.measures()
    profile.check(ExploreQuery(measures=["conversion"], dimensions=["week"]))
    with pytest.raises(errors.ValidationFailed) as refused:
        profile.check(ExploreQuery(measures=["conversion"], dimensions=["category"]))
    assert "time only" in refused.value.details[0]["problem"]
