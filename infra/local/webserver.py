"""Static server for the portal (web/), plus /config.json telling the pages where the API is."""
from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"


class PortalHandler(SimpleHTTPRequestHandler):
    config: dict[str, Any] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.split("?", 1)[0] == "/config.json":
            body = json.dumps(self.config).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # local development: always the latest files
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the API logs are the interesting ones
        pass


def start(host: str, port: int, api_url: str, stage: str = "dev") -> ThreadingHTTPServer:
    """Serve web/ on a daemon thread; returns the server (call ``shutdown()`` to stop)."""
    handler = type("ConfiguredPortalHandler", (PortalHandler,), {"config": {"apiUrl": api_url, "stage": stage}})
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(WEB_ROOT)))
    threading.Thread(target=server.serve_forever, name="portal", daemon=True).start()
    return server
