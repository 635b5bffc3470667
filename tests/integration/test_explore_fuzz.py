"""Schemathesis over the /explore operations of the OpenAPI document, against the app served on loopback.

The app runs in ``infra.local.gateway``'s local server (what ``make run`` serves) on a free port, over the local
lake in moto. A company signs up through that server and gets about 5,000 sample order lines, so generated
questions reach the query engine. Signed in, no request may make the API fail (5xx) or answer outside what the
document declares; signed out, every request must be refused with a 401. The figures go to the terminal summary
(section "explore fuzz") and to the JUnit XML as test-suite properties.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from chalicelib import openapi, services
from chalicelib.auth.permissions import TenantContext
from chalicelib.query.explore_model import DIMENSIONS, MEASURES, TIME_DIMENSIONS
from chalicelib.samples import retail
from tests.integration.conftest import Api
from tests.integration.test_analysis_run import as_strings

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
    return schemathesis.Config.from_dict({
        # SEED picks the examples, the same on every run of the same selection of tests: Hypothesis also mixes in
        # literals of the project modules loaded so far, so this file alone and the whole suite differ a little.
        "seed": SEED,
        # Signed out, schemathesis makes up Authorization headers itself (mostly "Bearer ..."; sometimes none).
        "generation": {"with-security-parameters": not signed_in},
        # TRACE and QUERY never reach the app: Python's HTTP server answers them 501 itself.
        "phases": {"coverage": {"unexpected-methods": ["get", "put", "post", "delete", "patch", "options"]},
                   "stateful": {"enabled": False}},
        "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
        "parameters": {key: {"dictionary": name, "probability": 0.8} for key, name in BINDINGS.items()},
    })


DOCUMENT = openapi.build()
SIGNED_IN = schemathesis.openapi.from_dict(DOCUMENT, config=_config(True)).include(path_regex=r"^/explore")
SIGNED_OUT = schemathesis.openapi.from_dict(DOCUMENT, config=_config(False)).include(path_regex=r"^/explore")
CONFORMANCE = [schemathesis.checks.not_a_server_error, openapi_checks.status_code_conformance,
               openapi_checks.content_type_conformance, openapi_checks.response_headers_conformance,
               openapi_checks.response_schema_conformance]
FUZZ = settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                # the served app and the company are made once per operation and only read: sharing them is meant
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@dataclass
class Tally:
    operations: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0

    def add(self, case: schemathesis.Case, response: schemathesis.Response) -> None:
        self.operations.add(case.operation.label)
        self.statuses[response.status_code] += 1

    def line(self, name: str) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (f"{name}: {len(self.operations)} operations, {sum(self.statuses.values())} requests ({statuses}), "
                f"{self.failures} failures")


TALLIES = {"signed in": Tally(), "signed out": Tally()}


class _Figures:
    """Prints the tallies in pytest's terminal summary."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section("explore fuzz")
        for name, tally in TALLIES.items():
            terminalreporter.write_line(tally.line(name))


@pytest.fixture(scope="module", autouse=True)
def figures(request: pytest.FixtureRequest, record_testsuite_property: Callable[[str, object], None]) -> Iterator[None]:
    if not request.config.pluginmanager.has_plugin(_Figures.__name__):
        request.config.pluginmanager.register(_Figures(), _Figures.__name__)
    yield
    for name, tally in TALLIES.items():
        record_testsuite_property(f"explore fuzz {name}", tally.line(name))


class _Http:
    """``Api``'s HTTP side over a real socket (``Api`` expects the shape of chalice's test client)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        response = requests.request(method, self.base_url + path, headers=headers, data=body, timeout=60)
        return SimpleNamespace(status_code=response.status_code, body=response.content, headers=response.headers)


@pytest.fixture
def served_api(lake_env: dict[str, str]) -> Iterator[str]:
    """The app served on 127.0.0.1 and a free port as ``make run`` serves it (infra.local.gateway); its URL."""
    from chalice.cli.factory import CLIFactory
    from chalice.local import LocalChalice, LocalDevServer

    from app import app
    from infra.local.gateway import ROOT, SalesLensRequestHandler

    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name="dev")
    plain = type(app)
    app.__class__ = type("ThreadLocalApp", (LocalChalice, plain), {})  # current_request per server thread
    server = LocalDevServer(app, config, "127.0.0.1", 0, handler_cls=SalesLensRequestHandler)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(timeout=30)
        app.__class__ = plain


@dataclass(frozen=True)
class Tenant:
    base_url: str
    auth: dict[str, str]


@pytest.fixture
def tenant(served_api: str) -> Tenant:
    """A company signed up through the served API, with SALES loaded."""
    api = Api(_Http(served_api))
    token = api.register("fuzz@outdoor.example", company="Fuzz Outdoor Co.")
    tenant_id = api.call("GET", "/me", token=token).data["tenant"]["tenant_id"]
    ctx = TenantContext(tenant_id, "loader", "analyst", "fuzz@outdoor.example")
    summary = services.ingestion().ingest_records(ctx, as_strings(SALES), source="upload")["summary"]
    assert summary["rows_accepted"] == len(SALES), summary
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
    tally = TALLIES["signed in"]
    response = case.call(base_url=tenant.base_url, headers=tenant.auth)
    tally.add(case, response)
    try:
        case.validate_response(response, checks=CONFORMANCE, headers=tenant.auth)
    except schemathesis.errors.FailureGroup:
        tally.failures += 1
        raise


@FUZZ
@SIGNED_OUT.parametrize()
def test_signed_out_every_request_is_refused_with_a_401(case: schemathesis.Case, served_api: str) -> None:
    tally = TALLIES["signed out"]
    response = case.call(base_url=served_api)
    tally.add(case, response)
    try:
        case.validate_response(response, checks=CONFORMANCE)
        if case.method.upper() == case.operation.method.upper():  # not a probe with another method (405)
            assert response.status_code == 401, f"{case.method} {case.formatted_path}: {response.status_code}"
    except (schemathesis.errors.FailureGroup, AssertionError):
        tally.failures += 1
        raise
