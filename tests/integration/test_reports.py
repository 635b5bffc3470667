"""Reports end to end on moto's server: a company's sales ingested and analysed, a report asked for through the
API, built by the worker's ``build_report`` job, read back as HTML and PDF; schedules fired by the hourly tick and
e-mailed through SES (moto records the raw message); unsubscribe; alerts sent to a signed webhook after a run."""
from __future__ import annotations

import email
import html
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
import requests
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from pypdf import PdfReader

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from chalicelib.money import money
from chalicelib.reports import outbound
from chalicelib.reports.sections import SECTIONS, TITLES
from chalicelib.samples import retail
from tests.integration.conftest import Api, lake_environment
from tests.integration.test_analysis_run import drain_jobs, load, make_worker

SAMPLE = {"seed": 7, "customers": 300, "days": 500}


@pytest.fixture(scope="module")
def company(moto_server: str) -> Iterator[dict[str, Any]]:
    """One analysed company (and a second, empty one) on a fresh moto, the API as a test client."""
    import os

    from app import app
    from infra.local.gateway import test_client

    os.environ["SL_ALERT_WEBHOOK_ALLOW_LOOPBACK"] = "1"
    try:
        with lake_environment(moto_server) as env, test_client(app) as client:
            api = Api(client.http)
            token = api.register("ada@acme.example")
            tenant_id = api.call("GET", "/me", token=token).data["tenant"]["tenant_id"]
            ctx = TenantContext(tenant_id, "u1", "owner")
            load(ctx, pd.concat(list(retail(**SAMPLE)), ignore_index=True))
            worker = make_worker()
            drain_jobs(env, worker)
            other = api.register("bob@globex.example", company="Globex")
            yield {"api": api, "env": env, "token": token, "ctx": ctx, "worker": worker, "other": other}
    finally:
        os.environ.pop("SL_ALERT_WEBHOOK_ALLOW_LOOPBACK", None)


def make_report(company: dict[str, Any], body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    created = company["api"].call("POST", "/reports", body, token=token or company["token"])
    assert created.status_code == 202, created.data
    drain_jobs(company["env"], company["worker"])
    report = company["api"].call("GET", f"/reports/{created.data['report_id']}", token=token or company["token"])
    assert report.status_code == 200 and report.data["status"] == "ready", report.data
    return report.data


def read(company: dict[str, Any], report_id: str, token: str | None = None) -> tuple[str, bytes]:
    api, token = company["api"], token or company["token"]
    page = api.http.request("GET", f"/reports/{report_id}?format=html", headers={"Authorization": f"Bearer {token}"},
                            body=b"")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "sandbox" in page.headers["Content-Security-Policy"]
    link = api.call("GET", f"/reports/{report_id}?format=pdf", token=token)
    assert link.status_code == 200, link.data
    pdf = requests.get(link.data["url"], timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers.get("Content-Disposition", "")
    return page.body.decode(), pdf.content


def artifact(company: dict[str, Any], name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    worker, ctx = company["worker"], company["ctx"]
    return worker.runner.artifacts.read(ctx, worker.runs.latest(ctx.tenant_id), name)


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_golden_report_has_every_section_with_the_artifacts_numbers(company: dict[str, Any],
                                                                        tmp_path: Path) -> None:
    report = make_report(company, {"period": {"preset": "last_30_days"}, "title": "Monthly review"})
    assert report["progress"] == 100 and len(report["headlines"]) == 3
    assert report["pages"] >= 2
    page, pdf = read(company, report["report_id"])
    text = html.unescape(page)
    for section in SECTIONS:
        assert TITLES[section] in text, section
    # the numbers are the artifacts' (the KPI window of the analysis is the last 30 days too)
    kpis, kpi_meta = artifact(company, "kpis")
    revenue = kpis.set_index("kpi").loc["revenue", "value"]
    assert money(revenue, "EUR") in text
    assert kpi_meta["top_products"][0]["product_name"] in text
    _, churn_meta = artifact(company, "churn")
    assert f"{churn_meta['high_risk_active']:,} active customers are at high risk" in text
    insights, _ = artifact(company, "insights")
    for sentence in insights["text"]:
        assert words(sentence) in words(text)
    rules, _ = artifact(company, "basket_rules")
    assert rules.sort_values("lift", ascending=False)["consequent"].iloc[0] in text
    assert text.count("<figcaption") >= 3  # every chart has a caption in words
    # the PDF: opens, names the period and filters on page 1, says the headlines, pages are not blank
    assert len(pdf) <= 2_000_000 and report["pdf_bytes"] == len(pdf)
    reader = PdfReader(__import__("io").BytesIO(pdf))
    first = words(reader.pages[0].extract_text())
    assert "No filters" in first and report["period_label"] in first
    everything = words(" ".join(p.extract_text() for p in reader.pages))
    for headline in report["headlines"]:
        assert words(headline)[:60] in everything
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(tmp_path / "report.pdf"), str(tmp_path / "page")], check=True)
    from PIL import Image

    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == len(reader.pages)
    for png in pages:
        pixels = list(Image.open(png).convert("L").get_flattened_data())
        assert sum(1 for p in pixels if p < 240) / len(pixels) > 0.005, f"{png.name} is blank"


def test_a_filtered_report_prints_its_filters_and_equals_explore(company: dict[str, Any]) -> None:
    filters = [{"field": "category", "op": "in", "values": ["Bikes"]}]
    report = make_report(company, {"period": {"preset": "last_90_days"}, "filters": filters,
                                   "sections": ["kpis", "products"]})
    page, pdf = read(company, report["report_id"])
    answer = company["api"].call("POST", "/explore", {"measures": ["revenue"], "filters": filters,
                                                      "date": {"preset": "last_90_days"}}, token=company["token"])
    revenue = answer.data["rows"][0]["revenue"]
    assert money(revenue, "EUR") in html.unescape(page)
    first = words(PdfReader(__import__("io").BytesIO(pdf)).pages[0].extract_text())
    assert "Category" in first and "Bikes" in first
    assert report["headlines"][0].startswith(f"Revenue was {money(revenue, 'EUR')}")


def test_reports_refuse_what_they_should(company: dict[str, Any]) -> None:
    api, token = company["api"], company["token"]
    bad = api.call("POST", "/reports", {"filters": [{"field": "colour", "values": ["red"]}]}, token=token)
    assert bad.status_code == 400 and "filters.0.field" in bad.data["error"]["message"]
    unknown = api.call("POST", "/reports", {"sections": ["everything"]}, token=token)
    assert unknown.status_code == 400
    _, viewer = api.join(token, "vic@acme.example", "viewer")
    assert api.call("POST", "/reports", {}, token=viewer).status_code == 403
    listed = api.call("GET", "/reports", token=viewer)
    assert listed.status_code == 200 and listed.data["reports"]
    mine = listed.data["reports"][0]["report_id"]
    for path in (f"/reports/{mine}", f"/reports/{mine}?format=html", f"/reports/{mine}?format=pdf"):
        assert api.call("GET", path, token=company["other"]).status_code == 404, path
    assert api.call("GET", "/reports", token=company["other"]).data["reports"] == []
    assert api.call("GET", f"/reports/{mine}?format=docx", token=token).status_code == 400


def test_html_injection_in_product_names_is_escaped_in_both_outputs(company: dict[str, Any]) -> None:
    api, other = company["api"], company["other"]
    ctx = TenantContext(api.call("GET", "/me", token=other).data["tenant"]["tenant_id"], "u2", "owner")
    hostile = '<script>alert("x")</script> & </svg><img src=x onerror=alert(1)>'
    sales = pd.concat(list(retail(seed=3, customers=60, days=400)), ignore_index=True)
    sales["product_name"] = sales["product_name"].astype(str)
    top = sales.groupby("product_id", observed=True)["amount"].sum().idxmax()  # surely in the top-products table
    sales.loc[sales["product_id"] == top, "product_name"] = hostile
    load(ctx, sales)
    drain_jobs(company["env"], company["worker"])
    report = make_report(company, {"period": {"preset": "all"}, "sections": ["products", "kpis"]}, token=other)
    page, pdf = read(company, report["report_id"], token=other)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert hostile in html.unescape(page)  # shown as text
    everything = words(" ".join(p.extract_text() for p in PdfReader(__import__("io").BytesIO(pdf)).pages))
    assert '<script>alert("x")</script>' in everything


# -- schedules --------------------------------------------------------------------------------------------------
def outbox() -> list[Any]:
    return ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages


def raw_mails_to(address: str) -> list[email.message.Message]:
    found = []
    for message in outbox():
        raw = getattr(message, "raw_data", None)
        if raw and address in (getattr(message, "destinations", None) or []) + [raw]:
            parsed = email.message_from_string(raw) if isinstance(raw, str) else email.message_from_bytes(raw)
            if parsed["To"] == address:
                found.append(parsed)
    return found


def tick_at(company: dict[str, Any], moment: datetime) -> int:
    jobs = company["worker"].reports
    saved = jobs.clock
    jobs.clock = moment.timestamp
    try:
        return jobs.tick()
    finally:
        jobs.clock = saved


def schedule_body(**changes: Any) -> dict[str, Any]:
    return {"name": "Weekly sales", "frequency": "weekly", "weekday": 0, "hour": 8, "timezone": "Europe/Berlin",
            "recipients": ["ada@acme.example"], "sections": ["kpis", "trend", "insights"], **changes}


def test_a_schedule_fires_at_the_local_hour_across_dst_and_emails_the_pdf(company: dict[str, Any]) -> None:
    api, token = company["api"], company["token"]
    stranger = api.call("POST", "/report-schedules", schedule_body(recipients=["bob@globex.example"]), token=token)
    assert stranger.status_code == 400 and "not a member" in stranger.data["error"]["message"]
    created = api.call("POST", "/report-schedules", schedule_body(), token=token)
    assert created.status_code == 201, created.data
    schedule_id = created.data["schedule_id"]
    store = services.reports().schedules
    tenant_id = company["ctx"].tenant_id
    # put the next run on the Monday before Berlin's clocks go forward (29 Mar 2026): 08:00 CET = 07:00 UTC
    current = store.get(tenant_id, schedule_id)
    store.put(tenant_id, current.__class__(**{**current.__dict__, "next_run_at": "2026-03-23T07:00:00+00:00"}),
              read=current)
    assert tick_at(company, datetime(2026, 3, 23, 6, 59, tzinfo=UTC)) == 0
    assert tick_at(company, datetime(2026, 3, 23, 7, 0, 5, tzinfo=UTC)) == 1
    assert tick_at(company, datetime(2026, 3, 23, 7, 0, 30, tzinfo=UTC)) == 0  # claimed once only
    after = store.get(tenant_id, schedule_id)
    assert after.next_run_at == "2026-03-30T06:00:00+00:00"  # 08:00 CEST
    before = len(raw_mails_to("ada@acme.example"))
    drain_jobs(company["env"], company["worker"])
    mails = raw_mails_to("ada@acme.example")
    assert len(mails) == before + 1
    mail = mails[-1]
    body = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    attachment = next(p for p in mail.walk() if p.get_content_type() == "application/pdf")
    assert attachment.get_payload(decode=True).startswith(b"%PDF")
    report = services.reports().reports.get(tenant_id, store.get(tenant_id, schedule_id).last_report_id)
    assert report.request["period"] == {"start": "2026-03-16", "end": "2026-03-22"}
    for headline in report.headlines:
        assert words(headline) in words(body)
    assert mail["List-Unsubscribe"]
    token_in_mail = re.search(r"unsubscribe\.html\?token=(\S+)", body).group(1)
    deliveries = api.call("GET", "/deliveries", token=token).data["deliveries"]
    assert deliveries[0]["status"] == "sent" and deliveries[0]["report_id"] == report.report_id
    # unsubscribe: the public endpoint, the token from the e-mail
    assert api.call("POST", "/unsubscribe", {"token": token_in_mail + "x"}).status_code == 404
    done = api.call("POST", "/unsubscribe", {"token": token_in_mail})
    assert done.status_code == 200 and done.data["email"] == "ada@acme.example"
    assert api.call("GET", "/report-schedules", token=token).data["schedules"][0]["recipients"] == []
    assert api.call("DELETE", f"/report-schedules/{schedule_id}", token=token).status_code == 204


def test_a_failed_send_is_retried_then_recorded(company: dict[str, Any]) -> None:
    api, token, env = company["api"], company["token"], company["env"]
    created = api.call("POST", "/report-schedules", schedule_body(name="Retry me"), token=token)
    schedule_id = created.data["schedule_id"]
    tenant_id = company["ctx"].tenant_id
    store = services.reports().schedules
    current = store.get(tenant_id, schedule_id)
    store.put(tenant_id, current.__class__(**{**current.__dict__, "next_run_at": "2026-11-02T07:00:00+00:00"}),
              read=current)
    courier = company["worker"].reports.courier
    waits: list[float] = []
    courier.sleep = waits.append
    boto3.client("ses").delete_identity(Identity=env["SL_EMAIL_FROM"])  # SES now refuses the sender
    try:
        assert tick_at(company, datetime(2026, 11, 2, 7, 1, tzinfo=UTC)) == 1
        drain_jobs(env, company["worker"])
    finally:
        boto3.client("ses").verify_email_identity(EmailAddress=env["SL_EMAIL_FROM"])
    failed = api.call("GET", "/deliveries", token=token).data["deliveries"][0]
    assert failed["status"] == "failed" and failed["attempts"] == 3 and "refused" in failed["error"]
    assert waits == [1.0, 3.0]
    report = services.reports().reports.get(tenant_id, store.get(tenant_id, schedule_id).last_report_id)
    assert report.status == "ready"  # the report itself is kept and readable in the portal


def test_a_member_who_leaves_is_dropped_from_schedules_and_alerts(company: dict[str, Any]) -> None:
    api, token = company["api"], company["token"]
    cy_id, _ = api.join(token, "cy@acme.example", "analyst")
    both = ["ada@acme.example", "cy@acme.example"]
    schedule = api.call("POST", "/report-schedules", schedule_body(name="Team", recipients=both), token=token).data
    assert api.call("PUT", "/alert-settings", {"email_to": both}, token=token).status_code == 200
    assert api.call("DELETE", f"/members/{cy_id}", token=token).status_code == 204
    kept = next(s for s in api.call("GET", "/report-schedules", token=token).data["schedules"]
                if s["schedule_id"] == schedule["schedule_id"])
    assert kept["recipients"] == ["ada@acme.example"]
    assert api.call("GET", "/alert-settings", token=token).data["email_to"] == ["ada@acme.example"]
    api.call("DELETE", f"/report-schedules/{schedule['schedule_id']}", token=token)


# -- alerts -----------------------------------------------------------------------------------------------------
class Receiver(BaseHTTPRequestHandler):
    secret = ""
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        valid = outbound.verify(self.secret, self.headers["SalesLens-Timestamp"], self.headers["SalesLens-Signature"],
                                body, datetime.now(UTC).timestamp())
        self.seen.append({"valid": valid, "payload": json.loads(body), "delivery": self.headers["SalesLens-Delivery"]})
        self.send_response(200 if valid else 401)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def spike_after(sales: pd.DataFrame, factor: int = 25) -> pd.DataFrame:
    """The last day's sales again on the next day, ``factor`` times over: a day no usual pattern expects."""
    last = sales[sales["ts"].dt.normalize() == sales["ts"].dt.normalize().max()]
    copies = []
    for n in range(factor):
        copy = last.copy()
        copy["ts"] = copy["ts"] + pd.Timedelta(days=1)
        copy["order_id"] = copy["order_id"].astype(str) + f"-spike{n}"
        copies.append(copy)
    return pd.concat(copies, ignore_index=True)


def test_alerts_after_a_run_reach_a_signed_webhook_once(company: dict[str, Any]) -> None:
    api, token, env, worker = company["api"], company["token"], company["env"], company["worker"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        saved = api.call("PUT", "/alert-settings", {
            "rules": {"min_severity": "low"}, "email_to": ["ada@acme.example"],
            "webhook_url": f"http://127.0.0.1:{server.server_address[1]}/hooks/saleslens?token=abc"}, token=token)
        assert saved.status_code == 200, saved.data
        Receiver.secret, Receiver.seen = saved.data["webhook_secret"], []
        assert "webhook_secret" not in api.call("GET", "/alert-settings", token=token).data
        stranger = api.call("PUT", "/alert-settings", {"email_to": ["bob@globex.example"]}, token=token)
        assert stranger.status_code == 400
        # new sales with an unusual last day: the analysis they trigger sends its alerts through the job queue
        load(company["ctx"], spike_after(pd.concat(list(retail(**SAMPLE)), ignore_index=True)))
        drain_jobs(env, worker)
        assert Receiver.seen and all(s["valid"] for s in Receiver.seen), Receiver.seen
        alerts = [s["payload"]["alert"] for s in Receiver.seen]
        spike = next(a for a in alerts if a["kind"] == "anomaly")
        assert "15 May 2025" in spike["message"] and "above expected" in spike["message"], spike
        sent = len(Receiver.seen)
        # the same data analysed again: the same anomaly is not alerted twice
        assert api.call("POST", "/runs", {"reason": "again"}, token=token).status_code == 202
        drain_jobs(env, worker)
        assert len(Receiver.seen) == sent
        log = api.call("GET", "/deliveries", token=token).data["deliveries"]
        hooks = [d for d in log if d["channel"] == "webhook"]
        assert hooks and all("token=" not in d["target"] for d in hooks) and hooks[0]["status"] == "sent"
        assert any(d["channel"] == "email" and d["kind"] == "alert" and d["status"] == "sent" for d in log)
    finally:
        server.shutdown()
