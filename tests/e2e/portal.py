"""What every portal browser test needs: the demo owner's session, the analysis finished, a page opened signed
in, console errors collected, an axe-core scan, and screenshots at the three sizes the portal promises."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DEMO_EMAIL, DEMO_PASSWORD = "demo@saleslens.example", "Demo-Sales-2026!"
VIEWPORTS = {"desktop": (1366, 900), "tablet": (768, 1024), "phone": (390, 844)}
TOKEN_KEYS = {"access_token": "saleslens.access_token", "id_token": "saleslens.id_token",
              "refresh_token": "saleslens.refresh_token"}


def call(stack: Any, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    """The API's JSON answer; an error status fails the test with the API's message."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{stack.api}{path}", method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{method} {path} answered {exc.code}: {exc.read().decode()}") from exc


def log_in(stack: Any, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    return call(stack, "POST", "/auth/login", {"email": email, "password": password})


def wait_for_analysis(stack: Any, token: str, timeout: float = 180) -> dict[str, Any]:
    """The latest analysis run once it has finished (the demo data's run starts right after the stack is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = call(stack, "GET", "/runs?limit=1", token=token)["runs"]
        if runs and runs[0]["status"] in ("succeeded", "failed"):
            assert runs[0]["status"] == "succeeded", runs[0]
            return runs[0]
        time.sleep(1)
    raise AssertionError("the demo company's analysis did not finish in time")


class Console:
    """Console errors and uncaught exceptions of a page: a page that works logs none."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def assert_clean(self) -> None:
        assert not self.errors, f"console errors: {self.errors}"


def open_signed_in(page: Any, stack: Any, path: str, tokens: dict[str, Any]) -> Console:
    """Open `path` (e.g. "overview.html?x=1") as the user whose `tokens` came from POST /auth/login."""
    console = Console(page)
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))  # asked for by the bare SVG page
    page.goto(f"{stack.portal}/favicon.svg")  # same origin, so the session can be stored before the page runs
    page.evaluate("""([tokens, keys]) => {
        for (const [name, key] of Object.entries(keys)) if (tokens[name]) sessionStorage.setItem(key, tokens[name]);
        sessionStorage.setItem("saleslens.expires_at", String(Date.now() + 3600 * 1000));
    }""", [tokens, TOKEN_KEYS])
    page.goto(f"{stack.portal}/{path}")
    return console


def settle(page: Any) -> None:
    """Wait until no section shows a skeleton any more (every request of the page has answered)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_selector('[aria-busy="true"]', state="detached", timeout=30_000)  # (the CSP forbids polling JS)


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now, at the given impact levels."""
    page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [node["target"] for node in v["nodes"][:5]]}
            for v in result if v["impact"] in impacts]


def screenshots(page: Any, name: str, ready: Any = None) -> list[Path]:
    """Full-page screenshots of the open page at each promised size; `ready(page)` waits after each resize.
    Also checks nothing overflows sideways (tables scroll inside their own box instead)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    saved = []
    for size, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(350)  # charts resize on the next frame
        if ready:
            ready(page)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name} at {size} is {overflow}px wider than the screen"
        page.evaluate("() => window.scrollTo(0, 0)")  # else the sticky top bar lands mid-page in the full shot
        path = SCREENSHOTS / f"{name}-{size}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    page.set_viewport_size({"width": 1366, "height": 900})
    return saved
