"""POST /feedback stores, audits and e-mails through SES (moto's outbox); GET /feedback is for owners and admins."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.ses.models import ses_backends

from chalicelib import logs
from infra.local.provision import ACCOUNT_ID

IDEA = {"kind": "idea", "message": "Please add a weekly digest e-mail.\nMondays would be ideal.", "page": "/overview"}


def _outbox(region: str) -> list[Any]:
    return ses_backends[ACCOUNT_ID][region].sent_messages


def _tenant_id(api: Any, token: str) -> str:
    return api.call("GET", "/me", token=token).data["tenant"]["tenant_id"]


class Lines(logging.Handler):
    """The JSON log lines written while it is attached to the app's logger."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    lines = Lines()
    lines.setFormatter(logs.logger.registered_formatter)
    logs.logger.addHandler(lines)
    try:
        yield lines
    finally:
        logs.logger.removeHandler(lines)


def test_feedback_is_stored_audited_and_emailed_to_support(api: Any, aws_env: dict[str, str]) -> None:
    owner = api.register("ada@acme.example", company="Acme Bikes")
    _, viewer = api.join(owner, "vic@acme.example", "viewer")  # any role may send
    sent = api.call("POST", "/feedback", IDEA, token=viewer)
    assert sent.status_code == 201, sent.data
    assert set(sent.data) == {"feedback_id", "created_at", "sent"} and sent.data["sent"] is True

    [mail] = _outbox(aws_env["AWS_REGION"])
    assert mail.source == aws_env["SL_EMAIL_FROM"]
    assert mail.destinations["ToAddresses"] == [aws_env["SL_SUPPORT_EMAIL"]] == ["support@saleslens.example"]
    assert "Acme Bikes" in mail.subject and "idea" in mail.subject
    assert IDEA["message"] in mail.body and "vic@acme.example" in mail.body and "/overview" in mail.body

    listed = api.call("GET", "/feedback", token=owner)
    assert listed.status_code == 200, listed.data
    assert listed.data["feedback"] == [{"feedback_id": sent.data["feedback_id"], "created_at": sent.data["created_at"],
                                        "email": "vic@acme.example", "kind": "idea", "message": IDEA["message"],
                                        "page": "/overview", "sent": True}]
    audit = [e for e in api.call("GET", "/audit", token=owner).data["events"] if e["event"] == "feedback_sent"]
    assert len(audit) == 1 and audit[0]["actor"] == "vic@acme.example"
    assert audit[0]["details"] == {"feedback_id": sent.data["feedback_id"], "kind": "idea", "emailed": True}


def test_a_failed_email_keeps_the_feedback(api: Any, aws_env: dict[str, str], log_lines: Lines) -> None:
    owner = api.register("ada@acme.example")
    boto3.client("ses").delete_identity(Identity=aws_env["SL_EMAIL_FROM"])  # SES now refuses the sender
    sent = api.call("POST", "/feedback", {"kind": "problem", "message": "The chart is blank."}, token=owner)
    assert sent.status_code == 201, sent.data
    assert sent.data["sent"] is False
    assert _outbox(aws_env["AWS_REGION"]) == []

    [kept] = api.call("GET", "/feedback", token=owner).data["feedback"]
    assert kept["feedback_id"] == sent.data["feedback_id"] and kept["sent"] is False
    assert kept["message"] == "The chart is blank." and kept["page"] == ""
    warnings = [line for line in log_lines.lines if line["message"] == "feedback not e-mailed"]
    assert len(warnings) == 1 and warnings[0]["level"] == "WARNING"
    assert warnings[0]["feedback_id"] == sent.data["feedback_id"] and "not verified" in warnings[0]["reason"]


def test_the_list_is_newest_first_and_pages(api: Any) -> None:
    owner = api.register("ada@acme.example")
    ids = [api.call("POST", "/feedback", {"kind": kind, "message": f"note {n}"}, token=owner).data["feedback_id"]
           for n, kind in enumerate(["idea", "problem", "question"])]
    listed = api.call("GET", "/feedback", token=owner).data
    assert [f["feedback_id"] for f in listed["feedback"]] == ids[::-1] and listed["next"] is None
    first = api.call("GET", "/feedback?limit=2", token=owner).data
    rest = api.call("GET", f"/feedback?limit=2&next={first['next']}", token=owner).data
    assert [f["feedback_id"] for f in first["feedback"] + rest["feedback"]] == ids[::-1]
    bad = api.call("GET", "/feedback?next=not-a-token", token=owner)
    assert bad.status_code == 400 and bad.data["error"]["details"][0]["field"] == "next"


def test_only_owners_and_admins_read_feedback(api: Any) -> None:
    owner = api.register("ada@acme.example")
    _, admin = api.join(owner, "adam@acme.example", "admin")
    _, analyst = api.join(owner, "ann@acme.example", "analyst")
    _, viewer = api.join(owner, "vic@acme.example", "viewer")
    assert api.call("POST", "/feedback", IDEA, token=analyst).status_code == 201
    assert len(api.call("GET", "/feedback", token=admin).data["feedback"]) == 1
    for token in (viewer, analyst):
        denied = api.call("GET", "/feedback", token=token)
        assert denied.status_code == 403 and denied.data["error"]["code"] == "forbidden"
    assert api.call("GET", "/feedback").status_code == 401
    assert api.call("POST", "/feedback", IDEA).status_code == 401


def test_another_company_sees_none_of_it(api: Any) -> None:
    acme = api.register("ada@acme.example", company="Acme Bikes")
    globex = api.register("gus@globex.example", company="Globex Cars")
    assert api.call("POST", "/feedback", IDEA, token=acme).status_code == 201
    assert api.call("GET", "/feedback", token=globex).data["feedback"] == []


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "idea", "message": "x" * 4001}, "message"),
    ({"kind": "idea", "message": "   "}, "message"),
    ({"kind": "idea"}, "message"),
    ({"kind": "rant", "message": "hi"}, "kind"),
    ({"message": "hi"}, "kind"),
    ({"kind": "idea", "message": "hi", "page": "/" * 201}, "page"),
    ({"kind": "idea", "message": "hi", "email": "ceo@acme.example"}, "email"),
], ids=["message too long", "blank message", "no message", "unknown kind", "no kind", "page too long", "extra field"])
def test_an_invalid_body_is_a_400_naming_the_field(api: Any, aws_env: dict[str, str], body: dict[str, Any],
                                                   field: str) -> None:
    owner = api.register("ada@acme.example")
    response = api.call("POST", "/feedback", body, token=owner)
    assert response.status_code == 400, response.data
    assert field in [d["field"] for d in response.data["error"]["details"]], response.data
    assert api.call("GET", "/feedback", token=owner).data["feedback"] == []
    assert _outbox(aws_env["AWS_REGION"]) == []


def test_a_message_of_4000_characters_is_taken(api: Any) -> None:
    owner = api.register("ada@acme.example")
    response = api.call("POST", "/feedback", {"kind": "question", "message": "y" * 4000}, token=owner)
    assert response.status_code == 201, response.data


def test_deleting_the_company_removes_its_feedback(api: Any, aws_env: dict[str, str]) -> None:
    owner = api.register("ada@acme.example", company="Acme Bikes")
    tenant_id = _tenant_id(api, owner)
    assert api.call("POST", "/feedback", IDEA, token=owner).status_code == 201
    assert api.call("DELETE", "/tenant", {"confirm": "Acme Bikes"}, token=owner).status_code == 204
    left = boto3.client("dynamodb").query(
        TableName=aws_env["SL_TABLE_NAME"], KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}})["Items"]
    assert left == []
