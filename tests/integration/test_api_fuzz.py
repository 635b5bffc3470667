"""Schemathesis over every operation of the OpenAPI document but /explore* (test_explore_fuzz.py has those).

One app is served on loopback for the whole file (over the local lake in moto) and one company signs up through it,
with a few hundred order lines, a teammate, a pending invitation, a webhook key, an upload and a finished run with a
``kpis`` artifact, so that generated path parameters can be swapped for real ids. Signed in as its owner, no request
may make the API fail (5xx) or answer outside what the document declares; signed out, every authenticated operation
must answer 401 and the public ones must answer as documented. The figures go to the terminal summary (section
"api fuzz") and to the JUnit XML as test-suite properties.

Path parameters: in about half the positive cases the generated id is replaced by a real one (the teammate for
``/members/{user_id}``); the rest keep the generated id and get the documented 404.

Operations that end the caller's session or company are run, not skipped: ``POST /auth/logout``,
``POST /auth/change-password``, ``DELETE /me``, ``DELETE /tenant``, ``DELETE /members/{user_id}``,
``PATCH /members/{user_id}`` (and the DELETEs of invitations and webhook keys, which use up their real id). In some
positive cases they get the real password or company name, so that they succeed; after every success of one of them
the account is healed: a new login when the token stopped working, a new company with its sales when the login or
company is gone, a new teammate, invitation or key when the real one was removed.

No operation is excluded. Not covered: removing or demoting the owner themself through ``/members/{user_id}``
(the real id used there is the teammate's), and signed webhook deliveries (the ingest routes get generated
signatures, which must be refused with a 401; test_webhooks.py signs real ones).
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from chalicelib import openapi
from chalicelib.ingest.schema import DATASETS
from chalicelib.results.artifacts import ARTIFACTS
from chalicelib.samples import retail
from tests.integration.conftest import Api, lake_environment, serving
from tests.integration.fuzzing import Figures, Http, Tally, check, schema_config, sign_up
from tests.integration.test_results import KPIS, publish

SEED = 20260601
MAX_EXAMPLES = 12
PASSWORD = "Correct-Horse-9!"
SALES = pd.concat(retail(seed=5, customers=30, products=10, days=200, target_rows=300)).reset_index(drop=True)


DOCUMENT = openapi.build()
SIGNED_IN, SIGNED_OUT = (schemathesis.openapi.from_dict(DOCUMENT, config=schema_config(SEED, signed_in))
                         .exclude(path_regex=r"^/explore") for signed_in in (True, False))
PUBLIC = {(method.upper(), path) for path, methods in DOCUMENT["paths"].items()
          for method, operation in methods.items() if not operation["security"]}
# Successes of these can end the session, the company, or a real id: the account is healed after them.
HEALING = {("POST", "/auth/logout"), ("POST", "/auth/change-password"), ("DELETE", "/me"), ("DELETE", "/tenant"),
           ("DELETE", "/members/{user_id}"), ("PATCH", "/members/{user_id}"),
           ("DELETE", "/invitations/{invitation_id}"), ("DELETE", "/webhook-secrets/{key_id}"),
           ("DELETE", "/report-schedules/{schedule_id}")}
FUZZ = settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                # one served app and one (healed) company for the whole file: sharing them is meant
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TALLIES = {"signed in": Tally(), "signed out": Tally()}
figures = Figures("api fuzz", TALLIES).fixture()


class Account:
    """The owner of a company with sales, and real ids in it; ``heal`` puts back what a request took away."""

    def __init__(self, base_url: str) -> None:
        self.base_url, self.api, self.companies = base_url, Api(Http(base_url)), 0
        self._new_company()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _new_company(self) -> None:
        self.companies += 1
        self.email, self.password = f"owner{self.companies}@fuzz.example", PASSWORD
        self.company = f"Fuzz Company {self.companies}"
        self.token, self.ctx = sign_up(self.base_url, self.email, self.company, SALES)
        self.run_id = publish(self.ctx, {"kpis": (KPIS, {})})
        upload = self._call("POST", "/uploads", {"filename": "sales.csv", "size": 100})
        assert upload.status_code == 201, upload.data
        self.upload_id = upload.data["upload"]["upload_id"]
        self.mates = 0
        self._new_mate()
        self._new_invitation()
        self._new_key()
        self._new_schedule()
        report = self._call("POST", "/reports", {"sections": ["kpis"]})
        assert report.status_code == 202, report.data
        self.report_id = report.data["report_id"]

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        return self.api.call(method, path, body, token=self.token)

    def _new_mate(self) -> None:
        self.mates += 1
        self.mate_email = f"mate{self.mates}.{self.companies}@fuzz.example"
        self.member_id, _ = self.api.join(self.token, self.mate_email, "analyst")

    def _new_invitation(self) -> None:
        email = f"invitee{self.mates}.{self.companies}@fuzz.example"
        assert self._call("POST", "/invitations", {"email": email, "role": "viewer"}).status_code == 201
        pending = self._call("GET", "/invitations").data["invitations"]
        self.invitation_id = next(i["invitation_id"] for i in pending if i["email"] == email)

    def _new_key(self) -> None:
        key = self._call("POST", "/webhook-secrets", {"name": "fuzz"})
        assert key.status_code == 201, key.data
        self.key_id = key.data["key_id"]

    def _new_schedule(self) -> None:
        schedule = self._call("POST", "/report-schedules", {
            "name": "Fuzz", "frequency": "weekly", "weekday": 0, "hour": 8, "timezone": "UTC",
            "recipients": [m["email"] for m in self._call("GET", "/members").data["members"]][:1],
            "sections": ["kpis"]})
        assert schedule.status_code == 201, schedule.data
        self.schedule_id = schedule.data["schedule_id"]

    def heal(self) -> None:
        if self._call("GET", "/me").status_code != 200:
            login = self.api.call("POST", "/auth/login", {"email": self.email, "password": self.password})
            token = login.data["access_token"] if login.status_code == 200 else None
            if token is None or self.api.call("GET", "/me", token=token).status_code != 200:
                self._new_company()
                return
            self.token = token
        if self._call("GET", f"/members/{self.member_id}").status_code == 404:
            self._new_mate()
        invitations = self._call("GET", "/invitations").data["invitations"]
        if self.invitation_id not in {i["invitation_id"] for i in invitations}:
            self._new_invitation()
        if self.key_id not in {k["key_id"] for k in self._call("GET", "/webhook-secrets").data["keys"]}:
            self._new_key()
        if self.schedule_id not in {s["schedule_id"] for s in self._call("GET", "/report-schedules").data["schedules"]}:
            self._new_schedule()

    def real(self, name: str, generated: str) -> str:
        return {"user_id": self.member_id, "invitation_id": self.invitation_id, "upload_id": self.upload_id,
                "run_id": self.run_id, "key_id": self.key_id, "schedule_id": self.schedule_id,
                "report_id": self.report_id,
                "artifact": ARTIFACTS[_pick(generated, len(ARTIFACTS))],
                "dataset": f"{list(DATASETS)[_pick(generated, len(DATASETS))]}.csv"}[name]


def _pick(generated: Any, n: int) -> int:
    """A choice that depends only on the generated value, so derandomized runs make the same requests."""
    return zlib.crc32(repr(generated).encode()) % n


@pytest.fixture(scope="module")
def served(moto_server: str) -> Iterator[str]:
    with lake_environment(moto_server), serving() as url:
        yield url


@pytest.fixture(scope="module")
def account(served: str) -> Account:
    return Account(served)


def _realise(case: schemathesis.Case, account: Account) -> None:
    """In about half the positive cases, real ids in the path, and the real password or company name in the body."""
    if not (case.meta and case.meta.generation.mode == schemathesis.GenerationMode.POSITIVE):
        return
    for name, value in (case.path_parameters or {}).items():
        if _pick(value, 2) == 0:
            case.path_parameters[name] = account.real(name, value)
    if isinstance(case.query, dict) and "run" in case.query and _pick(case.query["run"], 2) == 0:
        case.query["run"] = account.run_id
    route, body = (case.method.upper(), case.operation.path), case.body
    if isinstance(body, dict) and _pick(body, 2) == 0:
        if route == ("POST", "/auth/change-password"):
            body["old_password"] = account.password
        elif route == ("DELETE", "/me"):
            body["password"] = account.password
        elif route == ("DELETE", "/tenant"):
            body["confirm"] = account.company


@FUZZ
@SIGNED_IN.parametrize()
def test_signed_in_no_server_error_and_answers_as_documented(case: schemathesis.Case, account: Account) -> None:
    _realise(case, account)
    route = (case.method.upper(), case.operation.path)
    auth = account.auth
    response = case.call(base_url=account.base_url, headers=auth)
    if route == ("POST", "/auth/change-password") and response.status_code == 200:
        account.password = case.body["new_password"]
    try:
        check(case, response, TALLIES["signed in"], headers=auth)
    finally:
        # a 401 mid-run (other than from the signed ingest routes) means the session was lost: log in again
        if (route in HEALING and response.status_code < 300) or (
                response.status_code == 401 and not case.operation.path.startswith("/v1/ingest")):
            account.heal()


@FUZZ
@SIGNED_OUT.parametrize()
def test_signed_out_authenticated_operations_answer_401(case: schemathesis.Case, account: Account) -> None:
    response = case.call(base_url=account.base_url)

    def refused() -> None:
        route = (case.operation.method.upper(), case.operation.path)
        # not a probe with another method (405), and not a public operation
        if case.method.upper() == route[0] and route not in PUBLIC:
            assert response.status_code == 401, f"{case.method} {case.formatted_path}: {response.status_code}"

    check(case, response, TALLIES["signed out"], also=refused)


def test_resend_code_answers_known_and_unknown_emails_alike(account: Account) -> None:
    known = account.api.call("POST", "/auth/resend-code", {"email": account.mate_email})
    unknown = account.api.call("POST", "/auth/resend-code", {"email": f"{account.mate_email[0]}nobody@fuzz.example"})
    assert known.status_code == unknown.status_code == 200, (known.data, unknown.data)
    assert known.data == unknown.data  # the masked address is made from the one asked about, account or not


def test_reset_password_for_an_unknown_email_is_answered_like_a_wrong_code(account: Account) -> None:
    response = account.api.call("POST", "/auth/reset-password",
                                {"email": "nobody@fuzz.example", "code": "123456", "password": PASSWORD})
    assert response.status_code == 400 and response.data["error"]["code"] == "invalid_code", response.data
