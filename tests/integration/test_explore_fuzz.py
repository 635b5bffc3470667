"""Schemathesis over the /explore operations of the OpenAPI document, against the app served on loopback.

The app runs in ``infra.local.gateway``'s local server (what ``make run`` serves) on a free port, over the local
lake in moto. A company signs up through that server and gets about 5,000 sample order lines, so generated
questions reach the query engine. Signed in, no request may make the API fail (5xx) or answer outside what the
document declares; signed out, every request must be refused with a 401. The figures go to the terminal summary
(section "explore fuzz") and to the JUnit XML as test-suite properties.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from chalicelib import openapi
from chalicelib.query.explore_model import DIMENSIONS, MEASURES, TIME_DIMENSIONS
from chalicelib.samples import retail
from tests.integration.fuzzing import Figures, Tally, Tenant, check, schema_config, sign_up

SEED = 20260517
MAX_EXAMPLES = 40
# days >= 190: the generator needs that long to plant its churners; the company's own columns are dimensions too.
SALES = (pd.concat(retail(seed=3, customers=60, products=20, days=200, target_rows=4000)).reset_index(drop=True)
         .pipe(lambda f: f.assign(rep=[f"Rep {i % 4}" for i in range(len(f))], trim=None)))
OWN_COLUMNS = ["extra:rep", "extra:trim"]


def _values() -> list[str]:
    """Filter values that occur in SALES, and bucket starts of its time dimensions, so that filters can match."""
    found = {v for column in ("category", "region", "channel", "rep") for v in SALES[column].unique()}
    found |= set(SALES["product_name"].unique()[:5]) | set(SALES["customer_id"].unique()[:5])
    return sorted(found) + ["2024-01-01", "2024-03-01", "2024-04-01", "2024-03-04", "2024-03-11"]


# The document gives names as plain strings; these dictionaries make most generated names real (the rest stay
# random), so questions get past the catalogue check and reach the SQL.
DIMENSION_NAMES = [*DIMENSIONS, *OWN_COLUMNS]
DICTIONARIES = {
    "measures": list(MEASURES), "dimensions": DIMENSION_NAMES, "fields": [*MEASURES, *DIMENSION_NAMES],
    "searchable": [name for name in DIMENSION_NAMES if name not in TIME_DIMENSIONS], "values": _values(),
}
BINDINGS = {"body.measures[*]": "measures", "body.having[*].measure": "measures", "body.dimensions[*]": "dimensions",
            "body.filters[*].field": "dimensions", "body.filters[*].values[*]": "values",
            "body.sort[*].field": "fields", "query.dimension": "searchable", "query.q": "values"}


def _config(signed_in: bool) -> schemathesis.Config:
    """Real measure, dimension and value names in 80 % of the places that take them, so questions reach SQL."""
    return schema_config(SEED, signed_in,
                         dictionaries={name: {"values": values} for name, values in DICTIONARIES.items()},
                         parameters={key: {"dictionary": name, "probability": 0.8} for key, name in BINDINGS.items()})


DOCUMENT = openapi.build()
SIGNED_IN = schemathesis.openapi.from_dict(DOCUMENT, config=_config(True)).include(path_regex=r"^/explore")
SIGNED_OUT = schemathesis.openapi.from_dict(DOCUMENT, config=_config(False)).include(path_regex=r"^/explore")
FUZZ = settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                # the served app and the company are made once per operation and only read: sharing them is meant
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


TALLIES = {"signed in": Tally(), "signed out": Tally()}
figures = Figures("explore fuzz", TALLIES).fixture()


@pytest.fixture
def tenant(served_api: str) -> Tenant:
    """A company signed up through the served API, with SALES loaded."""
    token, _ = sign_up(served_api, "fuzz@outdoor.example", "Fuzz Outdoor Co.", SALES)
    return Tenant(served_api, {"Authorization": f"Bearer {token}"})


@SIGNED_IN.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """Positive questions made to follow the rules the document does not state, so that most get answered."""
    if case.meta and case.meta.generation.mode == schemathesis.GenerationMode.POSITIVE and isinstance(case.body, dict):
        case.body = _follow_rules(case.body)
    return case


def _follow_rules(body: dict[str, Any]) -> dict[str, Any]:
    body = dict(body)
    for key in ("measures", "dimensions"):  # no name twice
        if isinstance(body.get(key), list):
            body[key] = list(dict.fromkeys(name.strip() for name in body[key]))
    if isinstance(date_range := body.get("date"), dict):  # a preset, or start <= end
        kept = {k: v for k, v in date_range.items() if not (date_range.get("preset") and k in ("start", "end"))}
        if kept.get("start") and kept.get("end") and kept["start"] > kept["end"]:
            kept["start"], kept["end"] = kept["end"], kept["start"]
        body["date"] = kept
    if isinstance(compare := body.get("compare"), dict):  # an event exactly when mode is "event"
        event = {"event": compare.get("event") or "black_friday"} if compare["mode"] == "event" else {}
        body["compare"] = {"mode": compare["mode"], **event}
    if body.get("having"):  # min or max, min <= max
        body["having"] = [_bounded(h) for h in body["having"]]
    if body.get("filters"):  # each field and op once
        body["filters"] = list({(f["field"].strip(), f.get("op", "in")): f for f in body["filters"]}.values())
    if body.get("other"):  # everything else comes on one page
        body.pop("offset", None)
    return body


def _bounded(having: dict[str, Any]) -> dict[str, Any]:
    low, high = having.get("min"), having.get("max")
    if low is None and high is None:
        low = 0
    if low is not None and high is not None and low > high:
        low, high = high, low
    return {**having, "min": low, "max": high}


@FUZZ
@SIGNED_IN.parametrize()
def test_signed_in_no_server_error_and_answers_as_documented(case: schemathesis.Case, tenant: Tenant) -> None:
    response = case.call(base_url=tenant.base_url, headers=tenant.auth)
    check(case, response, TALLIES["signed in"], headers=tenant.auth)


@FUZZ
@SIGNED_OUT.parametrize()
def test_signed_out_every_request_is_refused_with_a_401(case: schemathesis.Case, served_api: str) -> None:
    response = case.call(base_url=served_api)

    def refused() -> None:
        if case.method.upper() == case.operation.method.upper():  # not a probe with another method (405)
            assert response.status_code == 401, f"{case.method} {case.formatted_path}: {response.status_code}"

    check(case, response, TALLIES["signed out"], also=refused)
