"""Alert detection on real pipeline output and on hand-built artifacts; webhook signing and the SSRF guard."""
from __future__ import annotations

import hashlib
import hmac
import json
from functools import cache

import pandas as pd
import pytest
import requests

from chalicelib.auth.permissions import TenantContext
from chalicelib.errors import ValidationFailed
from chalicelib.reports import alerts, outbound
from chalicelib.reports.alert_store import AlertSettings, check_settings
from chalicelib.reports.alerts import AlertRules, detect
from chalicelib.samples import retail, truth
from chalicelib.webhooks import signing
from jobs.runner import Runner
from tests.fakes import FakeArtifactStore, FakeRunStore, FrameEngine

CTX = TenantContext("t1", "system", "analyst")
PROMOTION = next(a for a in truth(seed=7, customers=300, days=500).anomalies if a.reason == "Camping promotion")


# ----------------------------------------------------------------------------- real pipeline output ----
@cache
def _two_runs() -> tuple[dict, dict]:
    """A run on sales up to 11 Aug 2024, then one four weeks later whose last days hold the planted Camping
    promotion (4 Sep 2024) and whose forecast_accuracy checks the first run's forecast."""
    sales = pd.concat(list(retail(seed=7, customers=300, days=500)), ignore_index=True)
    runs, artifacts = FakeRunStore(), FakeArtifactStore()
    engine = FrameEngine({"t1": {"transactions": sales[sales["ts"] < "2024-08-12"]}})
    results = []
    for cut in ("2024-08-12", "2024-09-09"):
        engine.tables = FrameEngine({"t1": {"transactions": sales[sales["ts"] < cut]}}).tables
        run, _ = runs.request("t1", "manual")
        run = runs.start("t1", run.run_id)
        results.append(Runner(artifacts, runs, engine).run(CTX, run).results)
        runs.finish(run, "succeeded")
    return results[0], results[1]


def _expected_anomaly_keys(results: dict, rules: AlertRules) -> set[str]:
    frame, meta = results["anomalies"]
    last = pd.Timestamp(meta["last_day"])
    ranks = {"low": 0, "medium": 1, "high": 2}
    return {f"anomaly:{row.date:%Y-%m-%d}:{row.direction}" for row in frame.itertuples()
            if 0 <= (last - row.date).days <= rules.lookback_days
            and ranks[row.severity] >= ranks[rules.min_severity]}


def test_the_planted_promotion_alerts_and_names_its_category() -> None:
    _, current = _two_runs()
    found = [a for a in detect(current, None, AlertRules(forecast_miss=False)) if a.kind == "anomaly"]
    assert [a.key for a in found] == [f"anomaly:{PROMOTION.date:%Y-%m-%d}:{PROMOTION.direction}"]
    alert = found[0]
    top = alert.details["drivers"][0]
    assert (top["dimension"], top["value"]) == (PROMOTION.dimension, PROMOTION.value) and top["share"] > 0.5
    assert alert.message.startswith("Revenue on 4 Sep 2024 was ") and "% above expected (€" in alert.message
    assert f"; {top['share']:.0%} of the rise is Camping (category)" in alert.message
    assert alert.severity in ("medium", "high") and alert.date == "2024-09-04"
    json.dumps(alert.public())  # the webhook payload must serialise


def test_lookback_and_severity_limit_what_fires_on_real_output() -> None:
    _, current = _two_runs()
    frame, _ = current["anomalies"]
    assert len(frame) >= 3  # two years of history hold several unusual days ...
    for rules in (AlertRules(), AlertRules(min_severity="low"), AlertRules(min_severity="high"),
                  AlertRules(lookback_days=3), AlertRules(lookback_days=70), AlertRules(lookback_days=400)):
        keys = {a.key for a in detect(current, None, rules) if a.kind == "anomaly"}
        assert keys == _expected_anomaly_keys(current, rules), rules
    # ... but only the recent one fires by default, while a long lookback reaches the planted July outage
    assert len(_expected_anomaly_keys(current, AlertRules())) == 1
    assert "anomaly:2024-07-05:down" in _expected_anomaly_keys(current, AlertRules(lookback_days=70))
    assert not [a for a in detect(current, None, AlertRules(anomalies=False)) if a.kind == "anomaly"]


def test_forecast_miss_on_real_output_is_the_latest_period_outside_the_95_range() -> None:
    previous, current = _two_runs()
    table, meta = current["forecast_accuracy"]
    forecast, _ = previous["forecast"]
    total = forecast[forecast["dimension"] == "total"].set_index("date")
    # the last week falls to half the forecast's 95 % floor (the real run's weeks may all be inside the range)
    last = pd.to_datetime(table["date"]).max()
    table = table.assign(actual=table["actual"].where(pd.to_datetime(table["date"]) != last,
                                                      0.5 * total.loc[last, "lower_95"]))
    current = {**current, "forecast_accuracy": (table, meta)}
    joined = table.set_index("date").join(total[["lower_95", "upper_95"]])
    outside = joined[(joined["actual"] < joined["lower_95"]) | (joined["actual"] > joined["upper_95"])]
    found = [a for a in detect(current, previous, AlertRules()) if a.kind == "forecast_miss"]
    assert len(outside) >= 1 and len(found) == 1
    latest = outside.index.max()
    assert found[0].key == f"forecast_miss:W:{latest:%Y-%m-%d}"
    assert found[0].details["periods_outside"] == len(outside) and found[0].details["level"] == 95
    assert "95% of outcomes between" in found[0].message
    assert not [a for a in detect(current, None, AlertRules()) if a.kind == "forecast_miss"]  # no range to judge


# ------------------------------------------------------------------------------- hand-built frames ----
def _anomaly_results(rows: list[dict], explanations: list[dict], last_day: str, currency: str = "EUR") -> dict:
    frame = pd.DataFrame(rows).assign(date=lambda f: pd.to_datetime(f["date"]))
    frame["difference"] = frame["actual"] - frame["expected"]
    frame["difference_pct"] = frame["difference"] / frame["expected"]
    frame["direction"] = ["up" if d >= 0 else "down" for d in frame["difference"]]
    frame["z_score"] = [7.0 if d >= 0 else -7.0 for d in frame["difference"]]
    return {"anomalies": (frame, {"explanations": explanations, "last_day": last_day}),
            "kpis": (pd.DataFrame(), {"currency": currency})}


def _why(date: str, dimension: str, value: str, share: float, rank: int = 1) -> dict:
    return {"date": f"{date}T00:00:00", "dimension": dimension, "value": value, "actual": 0.0, "expected": 1.0,
            "change": -1.0, "share_of_change": share, "rank": rank, "description": ""}


def test_the_message_names_the_top_two_drivers_and_their_share() -> None:
    results = _anomaly_results(
        [{"date": "2025-05-14", "actual": 6234.0, "expected": 10559.0, "severity": "high"}],
        [_why("2025-05-14", "category", "Tents", 0.80), _why("2025-05-14", "category", "Bikes", 0.15, rank=2),
         _why("2025-05-14", "channel", "store", 0.95), _why("2025-05-14", "region", "North", 0.47),
         _why("2025-05-14", "product", "Tent Aero 2", 0.31), _why("2025-05-13", "region", "South", 0.99)],
        "2025-05-14")
    [alert] = detect(results, None, AlertRules())
    assert alert.message == ("Revenue on 14 May 2025 was 41% below expected (€6,234 against €10,559); "
                             "80% of the gap is Tents (category), 47% is North (region).")
    assert alert.key == "anomaly:2025-05-14:down" and alert.subject == "Revenue on 14 May 2025 was 41% below expected"
    assert [d["value"] for d in alert.details["drivers"]] == ["Tents", "North"]  # channel only if nothing else


def test_channel_only_when_nothing_else_stands_out_and_a_spread_day_says_so() -> None:
    rows = [{"date": "2025-05-10", "actual": 100.0, "expected": 5000.0, "severity": "medium"},
            {"date": "2025-05-12", "actual": 9000.0, "expected": 3000.0, "severity": "medium"},
            {"date": "2025-05-13", "actual": 9000.0, "expected": 3000.0, "severity": "medium"}]
    why = [_why("2025-05-10", "channel", "store", 0.9), _why("2025-05-10", "category", "Bikes", 0.1),
           _why("2025-05-12", "category", "Bikes", 0.12), _why("2025-05-13", "category", "Apparel", 1.3)]
    found = {a.date: a for a in detect(_anomaly_results(rows, why, "2025-05-14", currency="USD"), None, AlertRules())}
    assert found["2025-05-10"].message.endswith("; 90% of the gap is store (channel).")
    assert found["2025-05-12"].message == (
        "Revenue on 12 May 2025 was 200% above expected ($9,000 against $3,000); no single category, product or "
        "region explains the rise: it was spread across the board.")
    assert "Apparel (category) alone accounts for more than the whole rise" in found["2025-05-13"].message


def test_severity_threshold_and_lookback_on_hand_built_days() -> None:
    rows = [{"date": "2025-05-14", "actual": 1.0, "expected": 10.0, "severity": "low"},
            {"date": "2025-05-10", "actual": 1.0, "expected": 10.0, "severity": "medium"},
            {"date": "2025-05-07", "actual": 20.0, "expected": 10.0, "severity": "high"},
            {"date": "2025-05-06", "actual": 20.0, "expected": 10.0, "severity": "high"}]
    results = _anomaly_results(rows, [], "2025-05-14")
    keys = lambda rules: sorted(a.key for a in detect(results, None, rules))  # noqa: E731
    assert keys(AlertRules()) == ["anomaly:2025-05-07:up", "anomaly:2025-05-10:down"]  # 7 days back, medium+
    assert keys(AlertRules(min_severity="low")) == ["anomaly:2025-05-07:up", "anomaly:2025-05-10:down",
                                                     "anomaly:2025-05-14:down"]
    assert keys(AlertRules(min_severity="high", lookback_days=8)) == ["anomaly:2025-05-06:up",
                                                                      "anomaly:2025-05-07:up"]
    assert keys(AlertRules(lookback_days=2)) == []


def _accuracy(actuals: list[float], previous_forecast: bool = True, levels: tuple[int, ...] = (80, 95),
              in_table: bool = False) -> tuple[dict, dict]:
    dates = pd.date_range("2025-04-07", periods=len(actuals), freq="W-MON")
    table = pd.DataFrame({"date": dates, "forecast": 1000.0, "actual": actuals})
    bands = {80: (900.0, 1100.0), 95: (800.0, 1200.0)}
    forecast = pd.DataFrame({"dimension": "total", "value": "All", "date": dates, "forecast": 1000.0})
    for level in levels:
        target = table if in_table else forecast
        target[f"lower_{level}"], target[f"upper_{level}"] = bands[level]
    category = forecast.assign(dimension="category", value="Bikes", lower_95=-1e9, upper_95=1e9)  # never used
    current = {"forecast_accuracy": (table, {"freq": "W", "previous_run_id": "r1"}),
               "kpis": (pd.DataFrame(), {"currency": "EUR"})}
    previous = {"forecast": (pd.concat([category, forecast]), {})} if previous_forecast else {}
    return current, previous


def test_forecast_miss_only_outside_the_interval() -> None:
    inside, prev = _accuracy([1000.0, 1150.0, 820.0])  # outside 80 % but inside 95 %: not a miss
    assert detect(inside, prev, AlertRules()) == []
    above, prev = _accuracy([1000.0, 1250.0, 1000.0])
    [miss] = detect(above, prev, AlertRules())
    assert miss.key == "forecast_miss:W:2025-04-14" and miss.kind == "forecast_miss"
    assert miss.subject == "Sales in the week of 14 Apr 2025 came in above the forecast range"
    assert ("were €1,250, above the forecast range: the last analysis forecast €1,000 (25% over the forecast) and "
            "expected 95% of outcomes between €800 and €1,200.") in miss.message
    both, prev = _accuracy([700.0, 1000.0, 1300.0, 1000.0])
    [miss] = detect(both, prev, AlertRules())
    assert miss.details["period_start"] == "2025-04-21" and "2 of the 4 weeks" in miss.message
    only_80, prev = _accuracy([1000.0, 1150.0], levels=(80,))
    [miss] = detect(only_80, prev, AlertRules())
    assert miss.details["level"] == 80 and "80% of outcomes" in miss.message
    from_table, _ = _accuracy([1000.0, 650.0], in_table=True)
    assert [a.key for a in detect(from_table, None, AlertRules())] == ["forecast_miss:W:2025-04-14"]
    no_range, _ = _accuracy([1000.0, 5000.0])
    assert detect(no_range, None, AlertRules()) == [] and detect(above, prev, AlertRules(forecast_miss=False)) == []


def _churn(count: int, cutoff: str = "2025-05-14T23:16:19") -> dict:
    return {"churn": (pd.DataFrame(), {"high_risk_active": count, "revenue_at_risk": 54422.36,
                                       "annual_value_high_risk": 57055.04, "active_customers": 277,
                                       "cutoffs": {"score": cutoff}}),
            "kpis": (pd.DataFrame(), {"currency": "EUR"})}


def test_churn_jump_thresholds() -> None:
    rules = AlertRules()
    assert detect(_churn(12), _churn(10), rules) == []  # +2 < 3 (the minimum)
    [jump] = detect(_churn(13), _churn(10), rules)
    assert jump.key == "churn_jump:2025-05-14" and jump.details["increase"] == 3
    assert jump.message == ("13 active customers are now at high risk of leaving, up from 10 at the previous "
                            "analysis (+3). Together they spend about €57,055 a year; €54,422 of it is likely to be "
                            "lost. See the churn page for who they are and why, and reach out before they go.")
    assert detect(_churn(47), _churn(40), rules) == []  # +7 < 20 % of 40
    assert len(detect(_churn(48), _churn(40), rules)) == 1
    assert len(detect(_churn(48), _churn(40), AlertRules(churn_jump_share=0.5))) == 0
    assert detect(_churn(5), _churn(9), rules) == []  # fewer is good news
    assert detect(_churn(50), None, rules) == [] and detect(_churn(50), {}, rules) == []  # nothing to compare
    assert detect(_churn(50), _churn(1), AlertRules(churn_jump=False)) == []


def test_missing_artifacts_give_no_alerts() -> None:
    assert detect({}, None, AlertRules()) == []
    empty = {"anomalies": (pd.DataFrame(columns=["date", "severity"]), {"explanations": [], "last_day": None})}
    assert detect(empty, {}, AlertRules(min_severity="low")) == []


# -------------------------------------------------------------------------------------- signatures ----
def test_sign_and_verify_round_trip() -> None:
    body, secret, now = b'{"type":"alert"}', "whsec_test", 1_750_000_000
    signature = outbound.sign(secret, now, body)
    expected = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    assert signature == f"v1={expected}" == signing.sign(secret, body, now)  # our intake's scheme
    assert outbound.verify(secret, str(now), signature, body, now=now + 10)
    assert not outbound.verify(secret, str(now), signature, body + b" ", now=now)  # tampered body
    assert not outbound.verify("whsec_other", str(now), signature, body, now=now)
    assert not outbound.verify(secret, str(now), signature, body, now=now + 301)  # too old: a replay
    assert not outbound.verify(secret, str(now), signature, body, now=now - 301)  # from the future
    assert not outbound.verify(secret, str(now + 1), signature, body, now=now)  # timestamp changed
    assert not outbound.verify(secret, "yesterday", signature, body, now=now)
    assert not outbound.verify(secret, str(now), "", body, now=now)


# ----------------------------------------------------------------------------------- the SSRF guard ----
def _dns(table: dict[str, list[str]]):
    return lambda host, port: table.get(host, [])


@pytest.mark.parametrize(("url", "problem"), [
    ("http://93.184.215.14/hook", "not https"),
    ("https://10.0.0.1/hook", "private address"),
    ("https://169.254.169.254/latest/meta-data", "private address"),
    ("https://[::1]/hook", "private address"),
    ("https://[::ffff:10.0.0.1]/hook", "private address"),
    ("https://100.64.0.1/hook", "private address"),
    ("https://224.0.0.1/hook", "private address"),
    ("https://0.0.0.0/hook", "private address"),
    ("https://user:pass@93.184.215.14/hook", "credentials in URL"),
    ("ftp://93.184.215.14/hook", "not https"),
    ("https:///hook", "not https"),
    ("https://93.184.215.14/" + "a" * 2048, "too long"),
])
def test_unsafe_webhook_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        outbound.check_webhook_url(url)
    assert refused.value.details == [{"field": "webhook_url", "problem": problem}]


def test_host_names_are_judged_by_every_address_they_resolve_to() -> None:
    dns = _dns({"hooks.example.com": ["93.184.215.14"], "internal.example.com": ["93.184.215.14", "10.1.2.3"],
                "localhost": ["127.0.0.1", "::1"]})
    assert outbound.check_webhook_url("https://hooks.example.com/a?t=1", resolver=dns) == \
        "https://hooks.example.com/a?t=1"
    for url in ("https://internal.example.com/a", "https://localhost/a", "http://localhost:8080/a"):
        with pytest.raises(ValidationFailed):
            outbound.check_webhook_url(url, resolver=dns)
    with pytest.raises(ValidationFailed, match="could not be found"):
        outbound.check_webhook_url("https://nowhere.example.com/a", resolver=dns)
    # loopback only when allowed (local stack and tests), over http too
    assert outbound.check_webhook_url("http://localhost:8080/a", allow_loopback=True, resolver=dns)
    assert outbound.check_webhook_url("https://127.0.0.1/a", allow_loopback=True)
    with pytest.raises(ValidationFailed):
        outbound.check_webhook_url("https://10.0.0.1/a", allow_loopback=True)
    with pytest.raises(ValidationFailed):
        outbound.check_webhook_url("http://93.184.215.14/a", allow_loopback=True)


class _Answer:
    def __init__(self, status: int) -> None:
        self.status_code = status

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class _Session:
    """Answers each POST with the next status; records what was sent."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.sent: list[dict] = []

    def post(self, url: str, **kwargs: object) -> _Answer:
        self.sent.append({"url": url, **kwargs})
        return _Answer(self.statuses.pop(0))


def test_a_host_that_turns_private_between_attempts_is_not_posted_to_again() -> None:
    answers = iter([["93.184.215.14"], ["10.0.0.7"]])
    session, slept = _Session(503, 200), []
    sender = outbound.WebhookSender(session=session, sleep=slept.append, resolver=lambda host, port: next(answers))
    outcome = sender.deliver("https://hooks.example.com/in", "whsec_x", {"a": 1})
    assert outcome.status == "failed" and outcome.attempts == 2 and len(session.sent) == 1
    assert "non-public address" in outcome.error and slept == [1.0]
    sent = session.sent[0]
    assert sent["allow_redirects"] is False and sent["data"] == b'{"a":1}'


def test_a_delivery_connects_to_the_address_it_checked_and_names_the_host_for_tls() -> None:
    session = _Session(200)
    sender = outbound.WebhookSender(session=session, sleep=list().append,
                                    resolver=_dns({"hooks.example.com": ["93.184.215.14"]}))
    assert sender.deliver("https://hooks.example.com:8443/in?t=1", "whsec_x", {}).status == "sent"
    sent = session.sent[0]
    assert sent["url"] == "https://93.184.215.14:8443/in?t=1"  # no second DNS lookup can move it
    assert sent["headers"]["Host"] == "hooks.example.com:8443"
    request = requests.Request("POST", sent["url"], headers=sent["headers"]).prepare()
    _, tls = outbound.PinnedAdapter().build_connection_pool_key_attributes(request, True)
    assert tls["server_hostname"] == tls["assert_hostname"] == "hooks.example.com"  # SNI and the certificate
    session = _Session(200)  # an address in the URL is used as it is
    address = _dns({"93.184.215.14": ["93.184.215.14"]})
    outbound.WebhookSender(session=session, resolver=address).deliver("https://93.184.215.14/in", "whsec_x", {})
    assert session.sent[0]["url"] == "https://93.184.215.14/in" and "Host" not in session.sent[0]["headers"]


def test_429_and_5xx_retry_with_backoff_and_redirects_are_not_followed() -> None:
    public = _dns({"hooks.example.com": ["93.184.215.14"]})
    session, slept = _Session(429, 502, 503, 500), []
    outcome = outbound.WebhookSender(session=session, sleep=slept.append, resolver=public).deliver(
        "https://hooks.example.com/in", "whsec_x", {})
    assert (outcome.status, outcome.attempts, outcome.http_status) == ("failed", 4, 500) and slept == [1.0, 2.0, 4.0]
    session = _Session(302)
    outcome = outbound.WebhookSender(session=session, sleep=slept.append, resolver=public).deliver(
        "https://hooks.example.com/in", "whsec_x", {})
    assert outcome.attempts == 1 and "redirects are not followed" in outcome.error


# ------------------------------------------------------------------------------------------ settings ----
def test_check_settings_wants_members_and_sane_rules() -> None:
    good = AlertSettings(email_to=[" Ada@Example.com", "ada@example.com"], webhook_url="https://93.184.215.14/in")
    checked = check_settings(good, ["ada@example.com", "bob@example.com"])
    assert checked.email_to == ["ada@example.com"] and checked.webhook_url == "https://93.184.215.14/in"
    bad = AlertSettings(email_to=["eve@evil.example"], webhook_url="https://10.0.0.1/in",
                        rules=AlertRules(min_severity="extreme", churn_jump_share=0, lookback_days=0))
    with pytest.raises(ValidationFailed) as refused:
        check_settings(bad, ["ada@example.com"])
    fields = [d["field"] for d in refused.value.details]
    assert fields == ["email_to", "rules.min_severity", "rules.churn_jump_share", "rules.lookback_days", "webhook_url"]
    assert "eve@evil.example" in refused.value.details[0]["problem"]


def test_public_settings_never_show_the_secret() -> None:
    settings = AlertSettings(webhook_url="https://93.184.215.14/in", webhook_secret="whsec_abcdefgh1234")
    shown = settings.public()
    assert "webhook_secret" not in shown and shown["webhook_secret_hint"] == "…1234"
    assert "whsec_abcdefgh1234" not in json.dumps(shown, ensure_ascii=False)
    assert alerts.period_label("2025-05-01", "M") == "May 2025" and alerts.day_label("2025-05-04") == "4 May 2025"
