"""Alert delivery end to end in moto: a real HTTP receiver that checks our signature, SES through a flaky
mailer, the dedupe ledger, the delivery log and KMS-encrypted alert settings in DynamoDB."""
from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme
from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.errors import ValidationFailed
from chalicelib.mail import MailNotSent, SesMailer
from chalicelib.reports import outbound
from chalicelib.reports.alert_store import AlertLedger, AlertSettings, AlertSettingsStore
from chalicelib.reports.alerts import Alert, dispatch
from chalicelib.reports.deliveries import Attachment, Courier, Delivery, DeliveryLog, new_delivery
from chalicelib.tenancy.store import tenant_pk, to_item

SECRET = "whsec_integration-test-secret"


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that answers with ``statuses`` in turn (then 200) and verifies each request
    with :func:`outbound.verify`, as a customer's endpoint would."""

    statuses: list[int]
    secret: str = SECRET
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({
                    "path": self.path, "body": body, "headers": dict(self.headers),
                    "verified": outbound.verify(receiver.secret, self.headers.get("SalesLens-Timestamp", ""),
                                                self.headers.get("SalesLens-Signature", ""), body, now=time.time())})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(statuses=[])
    server = ThreadingHTTPServer(("127.0.0.1", 0), found.handler())
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/saleslens"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class FlakyMailer:
    """The real SES mailer (moto) behind ``failures`` refusals: MailNotSent, as SES throttling would raise."""

    def __init__(self, failures: int) -> None:
        self.real = SesMailer(aws.client("ses"), get_settings().email_from)
        self.failures = failures
        self.calls: list[tuple[str, str]] = []

    def send(self, to: str, subject: str, text: str) -> str:
        self.calls.append((to, subject))
        if len(self.calls) <= self.failures:
            raise MailNotSent("Throttling: Maximum sending rate exceeded.")
        return self.real.send(to, subject, text)

    def send_with_attachment(self, to: str, subject: str, text: str, filename: str, data: bytes, mimetype: str,
                             headers: dict[str, str] | None = None) -> str:
        self.calls.append((to, filename))
        if len(self.calls) <= self.failures:
            raise MailNotSent("Throttling: Maximum sending rate exceeded.")
        return "attached"


@dataclass
class Kit:
    courier: Courier
    log: DeliveryLog
    ledger: AlertLedger
    sleeps: list[float]
    mail_sleeps: list[float]


def _kit(mailer: Any) -> Kit:
    settings = get_settings()
    db = aws.client("dynamodb")
    sleeps: list[float] = []
    mail_sleeps: list[float] = []
    log = DeliveryLog(db, settings.table_name)
    sender = outbound.WebhookSender(sleep=sleeps.append, allow_loopback=True)
    return Kit(Courier(mailer, sender, log, sleep=mail_sleeps.append), log, AlertLedger(db, settings.table_name),
               sleeps, mail_sleeps)


def _alert(day: str = "2025-05-14") -> Alert:
    return Alert(f"anomaly:{day}:down", "anomaly", "high", f"Revenue on {day} was 41% below expected",
                 f"Revenue on {day} was 41% below expected (€6,234 against €10,559); 80% of the gap is "
                 "Tents (category).", {"date": day, "drivers": [{"value": "Tents", "share": 0.8}]}, day)


def test_the_receiver_is_reached_at_the_checked_address_under_its_own_name(receiver: Receiver) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    checked = {"hooks.customer.test": ["127.0.0.1"]}  # a name no real DNS answers: only the check's answer counts
    sender = outbound.WebhookSender(allow_loopback=True, resolver=lambda host, _port: checked.get(host, []))
    outcome = sender.deliver(f"http://hooks.customer.test:{port}/hooks/saleslens", SECRET, {"n": 1})
    assert outcome.status == "sent", outcome
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.customer.test:{port}" and receiver.requests[0]["verified"]


@pytest.mark.parametrize(("certified", "status"), [("hooks.customer.test", "sent"), ("other.example", "failed")])
def test_tls_checks_the_hosts_own_certificate_at_the_pinned_address(receiver: Receiver, certified: str,
                                                                     status: str) -> None:
    ca = trustme.CA()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(certified).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        session = outbound.pinned_session()
        with ca.cert_pem.tempfile() as bundle:
            session.verify, session.trust_env = bundle, False  # this CA only (no REQUESTS_CA_BUNDLE from the env)
            sender = outbound.WebhookSender(session=session, attempts=1, allow_loopback=True,
                                            resolver=lambda host, _port: ["127.0.0.1"])  # the check's answer
            outcome = sender.deliver(f"https://hooks.customer.test:{server.server_address[1]}/in", SECRET, {})
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert outcome.status == status, outcome
    assert len(receiver.requests) == (1 if status == "sent" else 0)
    assert status == "sent" or "certificate was not accepted" in outcome.error


def test_a_500_is_retried_and_the_second_attempt_is_signed_and_sent(aws_env: dict, receiver: Receiver) -> None:
    receiver.statuses = [500, 200]
    kit = _kit(FlakyMailer(0))
    delivery = kit.courier.webhook("t1", receiver.url + "?token=abc", SECRET, {"type": "alert", "n": 1}, "alert",
                                   "Revenue fell", alert_key="anomaly:2025-05-14:down")
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 2, "")
    assert kit.sleeps == [1.0]  # the first backoff step
    assert len(receiver.requests) == 2 and all(r["verified"] for r in receiver.requests)
    ids = {r["headers"]["SalesLens-Delivery"] for r in receiver.requests}
    assert ids == {delivery.delivery_id}  # the same id on the retry, so the receiver can dedupe
    first = receiver.requests[0]
    assert first["path"] == "/hooks/saleslens?token=abc" and json.loads(first["body"]) == {"n": 1, "type": "alert"}
    assert first["headers"]["Content-Type"] == "application/json"
    assert first["headers"]["User-Agent"] == "SalesLens-Webhooks/1"
    logged = kit.log.page("t1")["deliveries"]
    assert logged == [delivery.public()]
    assert logged[0]["target"] == receiver.url and "token" not in json.dumps(logged)  # no query string kept


def test_a_400_is_not_retried(aws_env: dict, receiver: Receiver) -> None:
    receiver.statuses = [400]
    kit = _kit(FlakyMailer(0))
    delivery = kit.courier.webhook("t1", receiver.url, SECRET, {"type": "alert"}, "alert", "x")
    assert (delivery.status, delivery.attempts) == ("failed", 1) and "HTTP 400" in delivery.error
    assert kit.sleeps == [] and len(receiver.requests) == 1


def test_a_wrongly_signed_delivery_is_refused_by_the_receiver_check(aws_env: dict, receiver: Receiver) -> None:
    kit = _kit(FlakyMailer(0))
    kit.courier.webhook("t1", receiver.url, "whsec_not-the-receivers", {"type": "alert"}, "alert", "x")
    assert [r["verified"] for r in receiver.requests] == [False]


def _settings(receiver: Receiver, email_to: list[str]) -> AlertSettings:
    return AlertSettings(email_to=email_to, webhook_url=receiver.url, webhook_secret=SECRET)


def test_dispatching_the_same_alerts_twice_sends_them_once(aws_env: dict, receiver: Receiver) -> None:
    kit = _kit(FlakyMailer(0))
    found = [_alert("2025-05-13"), _alert("2025-05-14")]
    settings = _settings(receiver, ["ada@example.com", "bob@example.com"])
    first = dispatch("t1", "run1", found, settings, kit.ledger, kit.courier, "Acme Bikes")
    assert len(first) == 6 and {d.status for d in first} == {"sent"}
    assert {(d.channel, d.alert_key) for d in first} == {(c, a.key) for c in ("email", "webhook") for a in found}
    again = dispatch("t1", "run2", found, settings, kit.ledger, kit.courier, "Acme Bikes")
    assert again == [] and len(receiver.requests) == 2
    payload = json.loads(receiver.requests[0]["body"])
    assert payload == {"type": "alert", "company": "Acme Bikes", "run_id": "run1", "alert": found[0].public()}
    assert all(r["verified"] for r in receiver.requests)
    assert dispatch("t2", "run1", found[:1], settings, kit.ledger, kit.courier, "Other Co")  # another company
    off = AlertSettings(enabled=False, email_to=["ada@example.com"])
    assert dispatch("t1", "run3", [_alert("2025-05-15")], off, kit.ledger, kit.courier, "Acme Bikes") == []
    assert kit.ledger.claim("t1", _alert("2025-05-15").key, "run4")  # a disabled company claimed nothing


def test_ses_refusing_twice_then_accepting_is_sent_on_the_third_attempt(aws_env: dict) -> None:
    mailer = FlakyMailer(2)
    kit = _kit(mailer)
    delivery = kit.courier.email("t1", "ada@example.com", "Weekly report", "Hello", "report", report_id="rep1")
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 3, "")
    assert kit.mail_sleeps == [1.0, 3.0] and len(mailer.calls) == 3
    sent = aws.client("ses").get_send_statistics()["SendDataPoints"]
    assert sum(p["DeliveryAttempts"] for p in sent) == 1  # SES (moto) took exactly one message
    attached = kit.courier.email("t1", "ada@example.com", "Report", "PDF attached", "report",
                                 attachment=Attachment("report.pdf", b"%PDF-1.7"))
    assert attached.status == "sent" and mailer.calls[-1] == ("ada@example.com", "report.pdf")


def test_ses_always_failing_is_recorded_and_the_alert_is_released(aws_env: dict) -> None:
    kit = _kit(FlakyMailer(10**6))
    alert = _alert()
    settings = AlertSettings(email_to=["ada@example.com"])
    [delivery] = dispatch("t1", "run1", [alert], settings, kit.ledger, kit.courier, "Acme Bikes")
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "Maximum sending rate exceeded" in delivery.error and delivery.alert_key == alert.key
    assert kit.log.page("t1")["deliveries"][0]["status"] == "failed"  # recorded, never silently lost
    assert kit.ledger.claim("t1", alert.key, "run2")  # released: the next run tries again


def test_the_delivery_log_pages_newest_first(aws_env: dict) -> None:
    kit = _kit(FlakyMailer(0))
    made = []
    for n in range(5):
        made.append(kit.log.record("t1", new_delivery("email", f"m{n}@example.com", "report", f"n{n}",
                                                      status="sent", attempts=1)))
        time.sleep(0.002)  # distinct milliseconds
    kit.log.record("t2", new_delivery("email", "other@example.com", "report", "other", status="sent", attempts=1))
    seen, token = [], None
    while True:
        page = kit.log.page("t1", limit=2, next_token=token)
        assert len(page["deliveries"]) <= 2
        seen += [d["subject"] for d in page["deliveries"]]
        token = page["next"]
        if not token:
            break
    assert seen == ["n4", "n3", "n2", "n1", "n0"]
    assert Delivery(**kit.log.page("t1", limit=1)["deliveries"][0]) == made[-1]


def test_settings_round_trip_with_the_secret_encrypted(aws_env: dict) -> None:
    settings = get_settings()
    db, kms = aws.client("dynamodb"), aws.client("kms")
    store = AlertSettingsStore(db, kms, settings.table_name, settings.kms_key_id)
    assert store.get("t1") == AlertSettings()  # defaults before anything is saved
    saved = store.put("t1", AlertSettings(email_to=["ada@example.com"], webhook_url="https://93.184.215.14/in",
                                          webhook_secret="whsec_chosen-by-caller", updated_by="ada@example.com"))
    secret = saved["webhook_secret"]
    assert secret.startswith("whsec_") and secret != "whsec_chosen-by-caller" and len(secret) > 40
    assert saved["webhook_secret_hint"] == f"…{secret[-4:]}"
    loaded = store.get("t1")
    assert loaded.webhook_secret == secret and loaded.email_to == ["ada@example.com"]
    assert loaded.rules.min_severity == "medium" and loaded.updated_by == "ada@example.com"
    raw = db.get_item(TableName=settings.table_name, Key=to_item({"pk": tenant_pk("t1"), "sk": "ALERTSETTINGS"}))
    assert secret not in json.dumps(raw) and secret[6:] not in json.dumps(raw)
    # saving again keeps the secret and does not show it; rotating makes a new one, shown once
    again = store.put("t1", AlertSettings(email_to=[], webhook_url="https://93.184.215.14/in2"))
    assert "webhook_secret" not in again and store.get("t1").webhook_secret == secret
    rotated = store.rotate_secret("t1", "ada@example.com")["webhook_secret"]
    assert rotated != secret and store.get("t1").webhook_secret == rotated
    # the ciphertext is bound to its company: copied into another company's item it does not open
    item = db.get_item(TableName=settings.table_name, Key=to_item({"pk": tenant_pk("t1"), "sk": "ALERTSETTINGS"}))
    db.put_item(TableName=settings.table_name, Item={**item["Item"], "pk": {"S": tenant_pk("t2")}})
    with pytest.raises(ClientError):
        store.get("t2")
    # no URL, no secret
    store.put("t1", AlertSettings(webhook_url=""))
    assert store.get("t1").webhook_secret == ""
    with pytest.raises(ValidationFailed, match="Set a webhook URL"):
        store.rotate_secret("t1", "ada@example.com")
