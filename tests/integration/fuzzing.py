"""What the schemathesis runs share: the app served on loopback, a company signed up through it, the checks, and
the figures each run prints in the terminal summary (and records as JUnit test-suite properties)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
import requests
import schemathesis
from schemathesis.specs.openapi import checks as openapi_checks

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from tests.integration.conftest import Api
from tests.integration.test_analysis_run import as_strings

CONFORMANCE = [schemathesis.checks.not_a_server_error, openapi_checks.status_code_conformance,
               openapi_checks.content_type_conformance, openapi_checks.response_headers_conformance,
               openapi_checks.response_schema_conformance]


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


class Figures:
    """Prints the tallies of one run in pytest's terminal summary, in a section of their own."""

    def __init__(self, section: str, tallies: dict[str, Tally]) -> None:
        self.section, self.tallies = section, tallies

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section(self.section)
        for name, tally in self.tallies.items():
            terminalreporter.write_line(tally.line(name))

    def fixture(self) -> Any:
        """A module-scoped autouse fixture that shows the figures and records them in the JUnit XML."""

        @pytest.fixture(scope="module", autouse=True)
        def figures(request: pytest.FixtureRequest,
                    record_testsuite_property: Callable[[str, object], None]) -> Iterator[None]:
            name = f"figures {self.section}"
            if not request.config.pluginmanager.has_plugin(name):
                request.config.pluginmanager.register(self, name)
            yield
            for tally_name, tally in self.tallies.items():
                record_testsuite_property(f"{self.section} {tally_name}", tally.line(tally_name))

        return figures


class Http:
    """``Api``'s HTTP side over a real socket (``Api`` expects the shape of chalice's test client)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        response = requests.request(method, self.base_url + path, headers=headers, data=body, timeout=60)
        return SimpleNamespace(status_code=response.status_code, body=response.content, headers=response.headers)


@dataclass(frozen=True)
class Tenant:
    base_url: str
    auth: dict[str, str]


def sign_up(base_url: str, email: str, company: str, sales: pd.DataFrame) -> tuple[str, TenantContext]:
    """A company signed up through the served API with ``sales`` loaded; the owner's token and context."""
    api = Api(Http(base_url))
    token = api.register(email, company=company)
    me = api.call("GET", "/me", token=token).data
    ctx = TenantContext(me["tenant"]["tenant_id"], me["user_id"], me["role"], email)
    loader = TenantContext(ctx.tenant_id, "loader", "analyst", email)
    summary = services.ingestion().ingest_records(loader, as_strings(sales), source="upload")["summary"]
    assert summary["rows_accepted"] == len(sales), summary
    return token, ctx


def check(case: schemathesis.Case, response: schemathesis.Response, tally: Tally,
          headers: dict[str, str] | None = None, also: Callable[[], None] | None = None) -> None:
    """The conformance checks (and ``also``), counted in ``tally``."""
    tally.add(case, response)
    try:
        case.validate_response(response, checks=CONFORMANCE, headers=headers)
        if also is not None:
            also()
    except (schemathesis.errors.FailureGroup, AssertionError):
        tally.failures += 1
        raise


def schema_config(seed: int, signed_in: bool, **extra: Any) -> schemathesis.Config:
    """A run's settings. ``seed`` picks the examples (Hypothesis also mixes in literals of the modules loaded so
    far, so one file alone and the whole suite differ a little); signed out, schemathesis makes up Authorization
    headers itself; TRACE and QUERY are not probed (Python's HTTP server answers them 501 before the app)."""
    return schemathesis.Config.from_dict({
        "seed": seed,
        "generation": {"with-security-parameters": not signed_in},
        "phases": {"coverage": {"unexpected-methods": ["get", "put", "post", "delete", "patch", "options"]},
                   "stateful": {"enabled": False}},
        **extra,
    })
