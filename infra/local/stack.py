"""`make run`: the whole SalesLens stack on loopback — embedded AWS (moto server), every resource
provisioned into it, the API (chalice local), the portal, the event pump and a demo tenant."""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3

from infra.local import pump, webserver
from infra.local.provision import provision

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / ".local"
HOST = "127.0.0.1"
DEMO = {"name": "Dana Demo", "company": "Demo Outdoor Co.", "email": "demo@saleslens.example",
        "password": "Demo-Sales-2026!"}
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "us-east-1",
                     "AWS_DEFAULT_REGION": "us-east-1"}


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {HOST}:{port} after {timeout:.0f}s")


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) != 0


def api_call(api_url: str, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"{api_url}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def create_demo_tenant(api_url: str, env: dict[str, str]) -> str:
    """Sign the demo owner up through the public API, confirm the email administratively; returns a token."""
    status, body = api_call(api_url, "POST", "/auth/signup", {k: DEMO[k] for k in ("name", "company", "email",
                                                                                    "password")})
    if status not in (201, 409):
        raise RuntimeError(f"demo sign-up failed: {status} {body}")
    idp = boto3.client("cognito-idp", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"])
    idp.admin_confirm_sign_up(UserPoolId=env["SL_USER_POOL_ID"], Username=DEMO["email"])
    status, body = api_call(api_url, "POST", "/auth/login", {"email": DEMO["email"], "password": DEMO["password"]})
    if status != 200:
        raise RuntimeError(f"demo login failed: {status} {body}")
    return body["access_token"]


def load_demo_sales(api_url: str, token: str) -> dict[str, Any]:
    """Upload generated sample sales for the demo company through the same door the portal uses."""
    import requests

    from chalicelib.samples import retail, write_csv

    LOG_DIR.mkdir(exist_ok=True)
    path = LOG_DIR / "demo-sales.csv"
    write_csv(path, retail(seed=7))
    auth = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{api_url}/uploads", json={"filename": path.name, "size": path.stat().st_size},
                            headers=auth, timeout=30)
    created.raise_for_status()
    form, upload_id = created.json()["form"], created.json()["upload"]["upload_id"]
    with open(path, "rb") as file:
        requests.post(form["url"], data=form["fields"], files={"file": (path.name, file)}, timeout=120)
    upload = _wait_for_upload(api_url, upload_id, auth, until=("needs_mapping", "failed"))
    if upload["status"] == "needs_mapping":
        requests.post(f"{api_url}/uploads/{upload_id}/mapping", json={"columns": upload["proposal"]["columns"]},
                      headers=auth, timeout=30).raise_for_status()
        upload = _wait_for_upload(api_url, upload_id, auth, until=("loaded", "failed"))
    if upload["status"] != "loaded":
        raise RuntimeError(f"demo data did not load: {upload.get('error')}")
    return upload["summary"]


def _wait_for_upload(api_url: str, upload_id: str, auth: dict[str, str], until: tuple[str, ...]) -> dict[str, Any]:
    import requests

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        upload = requests.get(f"{api_url}/uploads/{upload_id}", headers=auth, timeout=30).json()
        if upload["status"] in until:
            return upload
        time.sleep(0.5)
    raise TimeoutError(f"upload {upload_id} still '{upload['status']}' after 5 minutes")


class Stack:
    """Starts the parts in dependency order and stops them in reverse."""

    def __init__(self, moto_port: int, api_port: int, web_port: int, demo_data: bool = True) -> None:
        self.ports = {"moto": moto_port, "api": api_port, "web": web_port}
        self.demo_data = demo_data
        self.demo_summary: dict[str, Any] = {}
        self.processes: list[subprocess.Popen] = []
        self.portal: Any = None
        self.pump: pump.EventPump | None = None
        self.env: dict[str, str] = {}

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.ports['api']}"

    @property
    def portal_url(self) -> str:
        return f"http://{HOST}:{self.ports['web']}"

    def _spawn(self, args: list[str], env: dict[str, str], log_name: str | None = None) -> subprocess.Popen:
        """Start a part in its own process group; ``log_name`` sends its output to .local/<name>.log."""
        output = None
        if log_name:
            LOG_DIR.mkdir(exist_ok=True)
            output = open(LOG_DIR / f"{log_name}.log", "w")  # noqa: SIM115 - lives as long as the process
        process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True, stdout=output,
                                   stderr=subprocess.STDOUT if output else None)
        self.processes.append(process)
        return process

    def start(self) -> None:
        busy = [f"{name} ({port})" for name, port in self.ports.items() if not port_is_free(port)]
        if busy:
            raise SystemExit(f"Ports already in use: {', '.join(busy)}. Stop the other process or pick other "
                             "ports (SL_LOCAL_MOTO_PORT, SL_LOCAL_API_PORT, SL_LOCAL_WEB_PORT).")
        os.environ.update(LOCAL_CREDENTIALS)
        endpoint = f"http://{HOST}:{self.ports['moto']}"
        base_env = {**os.environ, **LOCAL_CREDENTIALS, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        moto = self._spawn([sys.executable, "-m", "infra.local.moto_cognito", "-H", HOST, "-p",
                            str(self.ports["moto"])], base_env, log_name="moto")
        wait_for_port(self.ports["moto"], 30, moto)
        self.env = {**provision(endpoint, LOCAL_CREDENTIALS["AWS_REGION"]), "SL_STAGE": "dev",
                    "SL_PORTAL_URL": self.portal_url, "SL_PORTAL_ORIGIN": "*",
                    "SL_ALERT_WEBHOOK_ALLOW_LOOPBACK": "1"}
        os.environ.update(self.env)
        api = self._spawn([sys.executable, "-m", "infra.local.gateway", HOST, str(self.ports["api"])],
                          {**base_env, **self.env})
        wait_for_port(self.ports["api"], 60, api)
        self.portal = webserver.start(HOST, self.ports["web"], self.api_url)
        self.pump = pump.EventPump(boto3.client("sqs", endpoint_url=endpoint), self._pump_routes(),
                                   schedules=[pump.Schedule("webhook-flush", self.env["SL_INGEST_QUEUE_URL"],
                                                            json.dumps({"kind": "flush_webhooks"}), 30),
                                              # EventBridge's hourly tick; a minute here so a due schedule fires soon
                                              pump.Schedule("report-schedules", self.env["SL_JOBS_QUEUE_URL"],
                                                            json.dumps({"kind": "report_schedules"}), 60)])
        self.pump.start()
        token = create_demo_tenant(self.api_url, self.env)
        if self.demo_data:
            self.demo_summary = load_demo_sales(self.api_url, token)

    def _pump_routes(self) -> list[pump.Route]:
        from chalicelib.ingest import events
        from jobs import handler

        return [pump.Route("ingest", self.env["SL_INGEST_QUEUE_URL"], events.handle),
                pump.Route("analysis-jobs", self.env["SL_JOBS_QUEUE_URL"], handler.handle)]

    def stop(self) -> None:
        if self.pump:
            self.pump.stop()
        if self.portal:
            self.portal.shutdown()
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def banner(self) -> str:
        return "\n".join([
            "", "SalesLens is running.",
            f"  Portal:  {self.portal_url}/",
            f"  API:     {self.api_url}/health",
            f"  AWS:     http://{HOST}:{self.ports['moto']} (moto; state is in memory; log in .local/moto.log)",
            f"  Demo login: {DEMO['email']} / {DEMO['password']}",
            *([f"  Demo data: {self.demo_summary.get('rows_accepted', 0):,} sales rows loaded "
               f"({self.demo_summary.get('date_from', '')[:10]} to {self.demo_summary.get('date_to', '')[:10]})"]
              if self.demo_summary else []),
            "  Sign-up codes: the embedded Cognito sends no email and accepts any code.",
            "Press Ctrl-C to stop.", "",
        ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("SL_LOCAL_MOTO_PORT", 5555)))
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("SL_LOCAL_API_PORT", 8000)))
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("SL_LOCAL_WEB_PORT", 8080)))
    parser.add_argument("--no-demo-data", action="store_true", help="create the demo company without sample sales")
    args = parser.parse_args(argv)
    started = time.monotonic()
    stack = Stack(args.moto_port, args.api_port, args.web_port, demo_data=not args.no_demo_data)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stack.start()
        print(stack.banner(), flush=True)
        print(f"READY portal={stack.portal_url} api={stack.api_url} in {time.monotonic() - started:.1f}s",
              flush=True)
        while not stopping.is_set() and all(p.poll() is None for p in stack.processes):
            stopping.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping SalesLens...", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
