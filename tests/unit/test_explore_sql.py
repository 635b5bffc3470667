"""The Explore compiler on planted data: every measure by every dimension and filter kind equals pandas, top-N
with 'everything else' adds up, and generated questions stay pinned to the tenant with values only as parameters."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.query import explore_sql
from chalicelib.query.explore_model import MEASURES, TIME_DIMENSIONS, Condition, Having, Sort
from chalicelib.query.explore_sql import OTHER, Question, compile_explore, compile_rows, compile_values
from tests.unit.duck_lake import ACME, ATHENA, DuckLake, planted_sales
from tests.unit.test_athena_sql import _assert_every_dataset_is_pinned

SALES = planted_sales()
LABELS = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(0, 60, 2)],
                       "segment": ["Loyal", "Bargain"] * 15, "rfm_group": ["Champions", "At risk", "New"] * 10})
LAKE = DuckLake({"transactions": SALES, "customer_labels": LABELS},
                other_tenant={"transactions": SALES.assign(amount=SALES["amount"] * 1000)})
LINE_MEASURES = [m for m in MEASURES if m != "conversion"]
FIELDS = {"category": "category", "product": "product_name", "region": "region", "channel": "channel",
          "customer": "customer_id", "segment": "segment", "rfm_group": "rfm_group"}


def oracle(measures: list[str], dimensions: list[str], conditions: list[Condition] = (),
           start: date | None = None, end: date | None = None, week_start: str = "monday") -> pd.DataFrame:
    """The same question answered in pandas over the planted rows."""
    rows = SALES.merge(LABELS, on="customer_id", how="left").fillna({"segment": "(none)", "rfm_group": "(none)"})
    rows["stamp"] = rows["ts"].dt.normalize()
    first = rows[~rows["is_return"]].groupby("customer_id")["stamp"].min().rename("first_day")
    rows = rows.join(first, on="customer_id")
    for grain in TIME_DIMENSIONS:
        rows[grain] = _bucket(rows["stamp"], grain, week_start)
    rows = rows.rename(columns={v: k for k, v in FIELDS.items() if k not in ("segment", "rfm_group")})
    if start:
        rows = rows[rows["stamp"] >= pd.Timestamp(start)]
    if end:
        rows = rows[rows["stamp"] <= pd.Timestamp(end)]
    for c in conditions:
        values = [pd.Timestamp(v).strftime("%Y-%m-%d") for v in c.values] if c.field in TIME_DIMENSIONS else c.values
        keep = rows[c.field].isin(values)
        rows = rows[keep if c.op == "in" else ~keep]
    groups = rows.groupby(dimensions) if dimensions else [((), rows)]
    out = []
    for key, g in groups:
        buy = g[~g["is_return"]]
        revenue, customers, orders = buy["amount"].sum(), buy["customer"].nunique(), buy["order_id"].nunique()
        values = {"revenue": revenue, "units": buy["quantity"].sum(), "orders": orders, "customers": customers,
                  "returns": g[g["is_return"]]["amount"].abs().sum(),
                  "new_customers": buy[buy["first_day"] == buy["stamp"]]["customer"].nunique(),
                  "repeat_customers": buy[buy["first_day"] < buy["stamp"]]["customer"].nunique()}
        values["return_rate"] = values["returns"] / revenue if revenue else np.nan
        values["aov"] = revenue / orders if orders else np.nan
        values["revenue_per_customer"] = revenue / customers if customers else np.nan
        values["repeat_rate"] = values["repeat_customers"] / customers if customers else np.nan
        out.append({**dict(zip(dimensions, key if isinstance(key, tuple) else (key,), strict=False)),
                    **{m: values[m] for m in measures}})
    return pd.DataFrame(out, columns=[*dimensions, *measures])


def _bucket(days: pd.Series, grain: str, week_start: str = "monday") -> pd.Series:
    if grain == "week":  # pandas' weeks ending on Sunday (start Monday) or on Saturday (start Sunday)
        days = days.dt.to_period("W-SAT" if week_start == "sunday" else "W-SUN").dt.start_time
    elif grain != "day":
        days = days.dt.to_period({"month": "M", "quarter": "Q", "year": "Y"}[grain]).dt.start_time
    return days.dt.strftime("%Y-%m-%d")


def answer(question: Question, athena: bool = False) -> pd.DataFrame:
    sql, params = compile_explore(question)
    frame = (LAKE.query_athena if athena else LAKE.query)(sql, params)
    for grain in TIME_DIMENSIONS:
        if grain in frame:
            frame[grain] = pd.to_datetime(frame[grain]).dt.strftime("%Y-%m-%d")
    return frame


def assert_same(got: pd.DataFrame, expected: pd.DataFrame, dimensions: list[str], measures: list[str]) -> None:
    got = got.sort_values(dimensions).reset_index(drop=True) if dimensions else got
    expected = expected.sort_values(dimensions).reset_index(drop=True) if dimensions else expected
    assert len(got) == len(expected)
    for name in dimensions:
        assert got[name].tolist() == expected[name].tolist(), name
    for name in measures:
        assert np.allclose(got[name].astype(float), expected[name].astype(float), equal_nan=True, rtol=1e-9), name


FILTERS = {
    "none": ([], None, None),
    "in": ([Condition(field="category", values=["Tents", "Food"])], None, None),
    "not_in": ([Condition(field="region", op="not_in", values=["North"])], None, None),
    "dates": ([], date(2024, 6, 1), date(2025, 3, 15)),
}


@pytest.mark.parametrize("dimension", [*TIME_DIMENSIONS, *FIELDS])
@pytest.mark.parametrize("kind", FILTERS)
def test_every_measure_by_every_dimension_and_filter_equals_pandas(dimension: str, kind: str) -> None:
    conditions, start, end = FILTERS[kind]
    question = Question(measures=tuple(LINE_MEASURES), dimensions=(dimension,), start=start, end=end,
                        conditions=tuple(conditions), limit=5000)
    got = answer(question)
    assert_same(got, oracle(LINE_MEASURES, [dimension], conditions, start, end), [dimension], LINE_MEASURES)
    assert got["_lines"].sum() == got["_all_lines"].iloc[0]


@pytest.mark.parametrize("lines", [False, True], ids=["rollup", "lines"])
def test_weeks_starting_on_sunday_equal_pandas_on_duckdb_and_athena(lines: bool) -> None:
    measures = ("revenue", "units") if not lines else ("revenue", "customers")
    question = Question(measures=measures, dimensions=("week",), limit=5000, week_start="sunday")
    assert question.source == ("lines" if lines else "rollup")
    expected = oracle(list(measures), ["week"], week_start="sunday")
    assert set(pd.to_datetime(expected["week"]).dt.day_name()) == {"Sunday"}
    for athena in (False, True):
        assert_same(answer(question, athena=athena), expected, ["week"], list(measures))


def test_a_sunday_week_drills_down_to_its_own_seven_days() -> None:
    sunday = "2025-03-02"
    sql, params = compile_rows(None, None, (Condition(field="week", values=[sunday]),), 1000, 0,
                               week_start="sunday")
    days = pd.to_datetime(LAKE.query(sql, params)["ts"]).dt.normalize()
    inside = SALES[(SALES["ts"] >= sunday) & (SALES["ts"] < "2025-03-09")]
    assert len(days) == len(inside) > 0
    assert days.min() >= pd.Timestamp(sunday) and days.max() <= pd.Timestamp("2025-03-08")


@pytest.mark.parametrize("dimension", ["month", "category", "product", "region", "channel"])
def test_additive_measures_from_the_rollup_equal_the_order_lines(dimension: str) -> None:
    additive = [m for m in LINE_MEASURES if MEASURES[m].additive]
    question = Question(measures=tuple(additive), dimensions=(dimension,), start=date(2024, 3, 1),
                        conditions=(Condition(field="channel", values=["online"]),))
    assert question.source == "rollup"
    assert_same(answer(question), oracle(additive, [dimension], list(question.conditions), date(2024, 3, 1)),
                [dimension], additive)


def test_two_dimensions_and_having() -> None:
    question = Question(measures=("revenue", "customers"), dimensions=("quarter", "region"), limit=5000,
                        having=(Having(measure="revenue", min=20000.0),))
    expected = oracle(["revenue", "customers"], ["quarter", "region"])
    assert_same(answer(question), expected[expected["revenue"] >= 20000], ["quarter", "region"],
                ["revenue", "customers"])


@pytest.mark.parametrize("measure", ["revenue", "customers"])
def test_top_n_and_everything_else_add_up_to_the_total(measure: str) -> None:
    question = Question(measures=(measure,), dimensions=("product",), limit=3, other=True)
    got = answer(question)
    by_product = oracle([measure], ["product"]).sort_values(measure, ascending=False)
    assert got["product"].tolist()[:3] == by_product["product"].tolist()[:3] and got["product"].iloc[-1] == OTHER
    if measure == "revenue":
        assert got[measure].sum() == pytest.approx(by_product[measure].sum())
    else:  # a customer buying two kinds of product counts in each, exactly as in pandas
        rest = SALES[~SALES["is_return"] & ~SALES["product_name"].isin(by_product["product"].head(3))]
        assert got[measure].iloc[-1] == rest["customer_id"].nunique()


def test_top_n_per_week_keeps_the_same_top_products_in_every_week() -> None:
    question = Question(measures=("revenue",), dimensions=("month", "product"), limit=2, other=True,
                        start=date(2025, 1, 1), end=date(2025, 3, 31))
    got = answer(question)
    assert got["product"].nunique() == 3
    total = oracle(["revenue"], ["month"], start=date(2025, 1, 1), end=date(2025, 3, 31))
    sums = got.groupby("month")["revenue"].sum()
    assert np.allclose(sums.to_numpy(), total.set_index("month")["revenue"].loc[sums.index].to_numpy())


def test_paging_and_sort_are_stable() -> None:
    base = dict(measures=("revenue",), dimensions=("customer",), sort=(Sort(field="revenue"),))
    everything = answer(Question(**base, limit=5000))
    pages = pd.concat([answer(Question(**base, limit=7, offset=offset)) for offset in range(0, 70, 7)])
    assert pages["customer"].tolist() == everything["customer"].tolist()[:70]
    assert everything["revenue"].is_monotonic_decreasing and everything["_total_rows"].iloc[0] == len(everything)


def test_rows_behind_a_cell_are_its_order_lines() -> None:
    conditions = (Condition(field="category", values=["Tents"]), Condition(field="week", values=["2025-03-03"]))
    sql, params = compile_rows(None, None, conditions, limit=1000, offset=0)
    rows = LAKE.query(sql, params)
    expected = SALES[(SALES["category"] == "Tents") & (SALES["ts"] >= "2025-03-03") & (SALES["ts"] < "2025-03-10")]
    assert sorted(rows["order_id"]) == sorted(expected["order_id"]) and rows["ts"].is_monotonic_decreasing
    assert rows["_total_rows"].iloc[0] == len(expected)


def test_values_match_any_case_prefix_first() -> None:
    sql, params = compile_values("product", "TENT", 20)
    got = LAKE.query(sql, params)["value"].tolist()
    assert got[-1] == "Pretend Tent" and set(got) == {"Tent Pro", "Tent Lite", "Pretend Tent"}


# -- generated questions: pinned, parameterised, and the same answer in both dialects ------------------------
MARK = "zq"  # every generated value starts with this, so its text can be looked for in the SQL
values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12).map(
    lambda text: MARK + text)
real_values = st.sampled_from(["Tents", "North", "online", "C004", "Tent Pro", "Loyal", "Champions"])
conditions = st.builds(lambda field, op, vals: Condition(field=field, op=op, values=vals),
                       st.sampled_from(list(FIELDS)), st.sampled_from(["in", "not_in"]),
                       st.lists(st.one_of(values, real_values), min_size=1, max_size=3))
questions = st.builds(
    lambda measures, dimensions, conds, start, days, limit, offset, other, having: Question(
        measures=tuple(measures), dimensions=tuple(dimensions), conditions=tuple(conds), start=start,
        end=start + pd.Timedelta(days=days).to_pytimedelta() if start else None, limit=limit,
        offset=0 if other else offset, other=other,
        having=(Having(measure=measures[0], min=having),) if having is not None else ()),
    st.lists(st.sampled_from(LINE_MEASURES), min_size=1, max_size=4, unique=True),
    st.lists(st.sampled_from([*TIME_DIMENSIONS, *FIELDS]), max_size=2, unique=True),
    st.lists(conditions, max_size=3, unique_by=lambda c: (c.field, c.op)),
    st.one_of(st.none(), st.dates(date(2023, 12, 1), date(2026, 2, 1))), st.integers(0, 500),
    st.integers(1, 5000), st.integers(0, 50), st.booleans(), st.one_of(st.none(), st.floats(-10, 5000)))


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(questions)
def test_generated_questions_are_pinned_to_the_tenant_and_carry_values_only_as_parameters(question: Question) -> None:
    sql, params = compile_explore(question)
    assert MARK not in sql
    sent = [v for c in question.conditions for v in c.values if v.startswith(MARK)]
    assert all(v in params.values() for v in sent)
    athena_sql, execution = ATHENA.compile(ACME, sql, params)
    assert MARK not in athena_sql and "acme" not in athena_sql
    assert _assert_every_dataset_is_pinned(athena_sql, execution) >= 1


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(questions)
def test_duckdb_and_athena_forms_give_the_same_answer(question: Question) -> None:
    duck, athena = answer(question), answer(question, athena=True)
    keys = [*question.dimensions]
    if not question.ranked and not question.offset and len(duck) < question.limit:
        duck, athena = (f.sort_values(keys).reset_index(drop=True) if keys else f for f in (duck, athena))
    assert duck.columns.tolist() == athena.columns.tolist()
    assert len(duck) == len(athena)
    for name in duck.columns:
        if duck[name].dtype.kind in "fiu":
            assert np.allclose(duck[name].astype(float), athena[name].astype(float), equal_nan=True), name
        else:
            assert duck[name].astype(str).tolist() == athena[name].astype(str).tolist(), name


def test_explore_sql_names_only_known_tables() -> None:
    question = Question(measures=("new_customers", "repeat_rate"), dimensions=("segment",),
                        conditions=(Condition(field="rfm_group", values=["Champions"]),))
    sql, _ = compile_explore(question)
    assert explore_sql.Question.source.fget(question) == "lines"
    assert {t for t in ("transactions", "customer_labels") if t in sql} == {"transactions", "customer_labels"}



def test_conversion_is_orders_over_the_buckets_visits() -> None:
    days = pd.date_range("2025-01-01", "2025-03-31", freq="D")
    traffic = pd.DataFrame({"date": days.date, "visits": np.arange(len(days)) % 50 + 100, "batch_id": "t1"})
    lake = DuckLake({"transactions": SALES, "traffic": traffic})
    question = Question(measures=("conversion", "orders"), dimensions=("month",), start=date(2025, 1, 1),
                        end=date(2025, 3, 31))
    sql, params = compile_explore(question)
    got = lake.query(sql, params)
    orders = oracle(["orders"], ["month"], start=date(2025, 1, 1), end=date(2025, 3, 31)).set_index("month")
    visits = traffic.assign(month=pd.to_datetime(traffic["date"]).dt.strftime("%Y-%m-01")).groupby("month")["visits"]
    expected = orders["orders"] / visits.sum()
    assert np.allclose(got["conversion"].to_numpy(), expected.to_numpy())
    whole = lake.query(*compile_explore(Question(measures=("conversion",), start=date(2025, 1, 1),
                                                 end=date(2025, 3, 31))))
    assert whole["conversion"].iloc[0] == pytest.approx(orders["orders"].sum() / traffic["visits"].sum())
