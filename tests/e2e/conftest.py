"""Browser tests: start the real local stack (`python -m infra.local.stack`) and drive Debian's Chromium."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalStack:
    def __init__(self, portal: str, api: str, process: subprocess.Popen, startup_seconds: float) -> None:
        self.portal, self.api, self.process, self.startup_seconds = portal, api, process, startup_seconds


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    ports = [str(_free_port()) for _ in range(3)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "infra.local.stack", "--moto-port", ports[0],
                                "--api-port", ports[1], "--web-port", ports[2]],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    output: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        if line.startswith("READY"):
            break
        if time.monotonic() - started > 120:
            break
    if process.poll() is not None or not output or not output[-1].startswith("READY"):
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("local stack did not start:\n" + "".join(output[-40:]))
    fields = dict(part.split("=", 1) for part in output[-1].split() if "=" in part)
    stack = LocalStack(fields["portal"], fields["api"], process, time.monotonic() - started)
    import threading

    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # keep the pipe drained
    yield stack
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: apt-get install chromium (make test does this as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def demo_owner(stack) -> dict:
    """The demo owner's tokens (POST /auth/login), once the demo company's analysis has finished."""
    from tests.e2e.portal import log_in, wait_for_analysis

    tokens = log_in(stack)
    wait_for_analysis(stack, tokens["access_token"])
    return tokens


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
