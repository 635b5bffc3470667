"""Integration fixtures: the whole stack provisioned into moto's in-process AWS, and an API client."""
from __future__ import annotations

import contextlib
import os
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from chalicelib import services


@pytest.fixture
def aws_env() -> Iterator[dict[str, str]]:
    """Provision every resource into a fresh moto backend and point the settings at it."""
    from infra.local.provision import provision

    with mock_aws():
        env = provision(None, "us-east-1")
        env.pop("AWS_ENDPOINT_URL", None)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        services.reset()
        try:
            yield env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            services.reset()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto as a real HTTP server on loopback, for clients boto3 cannot patch (pyarrow's S3, DuckDB)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._server.server_port}"
    finally:
        server.stop()


@pytest.fixture
def lake_env(moto_server: str) -> Iterator[dict[str, str]]:
    """Like ``aws_env``, but provisioned into the fresh moto server and with AWS_ENDPOINT_URL pointing at it."""
    with lake_environment(moto_server) as env:
        yield env


@contextlib.contextmanager
def lake_environment(moto_server: str) -> Iterator[dict[str, str]]:
    """``lake_env`` for fixtures of other scopes: moto reset, every resource provisioned, the settings pointed at it."""
    from infra.local.provision import provision

    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=30).close()
    saved = {"AWS_ENDPOINT_URL": os.environ.get("AWS_ENDPOINT_URL")}
    os.environ["AWS_ENDPOINT_URL"] = moto_server
    try:
        env = provision(moto_server, "us-east-1")
        saved.update({k: os.environ.get(k) for k in env if k not in saved})
        os.environ.update(env)
        services.reset()
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        services.reset()


@pytest.fixture
def served_api(lake_env: dict[str, str]) -> Iterator[str]:
    """The app served on 127.0.0.1 and a free port as ``make run`` serves it (infra.local.gateway); its URL."""
    with serving() as url:
        yield url


@contextlib.contextmanager
def serving() -> Iterator[str]:
    """``served_api`` for fixtures of other scopes (the lake must be set up already)."""
    from chalice.cli.factory import CLIFactory
    from chalice.local import LocalChalice, LocalDevServer

    from app import app
    from infra.local.gateway import ROOT, SalesLensRequestHandler

    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name="dev")
    plain = type(app)
    app.__class__ = type("ThreadLocalApp", (LocalChalice, plain), {})  # current_request per server thread
    server = LocalDevServer(app, config, "127.0.0.1", 0, handler_cls=SalesLensRequestHandler)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(timeout=30)
        app.__class__ = plain


@pytest.fixture
def api(aws_env: dict[str, str]) -> Any:
    from app import app
    from infra.local.gateway import test_client

    with test_client(app) as client:
        yield Api(client.http)


class Api:
    """Thin JSON helper over chalice's test HTTP client."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             raw: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
        import json

        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = self.http.request(method, path, headers=all_headers, body=payload)
        response.data = json.loads(response.body) if response.body else None
        return response

    def signup(self, email: str, company: str | None = "Acme Bikes", name: str = "Ada Owner",
               password: str = "Correct-Horse-9!", invitation: str | None = None) -> Any:
        body: dict[str, Any] = {"name": name, "email": email, "password": password}
        if company:
            body["company"] = company
        if invitation:
            body["invitation"] = invitation
        return self.call("POST", "/auth/signup", body)

    def login(self, email: str, password: str = "Correct-Horse-9!") -> str:
        response = self.call("POST", "/auth/login", {"email": email, "password": password})
        assert response.status_code == 200, response.data
        return response.data["access_token"]

    def register(self, email: str, company: str | None = "Acme Bikes", **kwargs: Any) -> str:
        """Sign up, confirm and log in; returns the access token."""
        response = self.signup(email, company, **kwargs)
        assert response.status_code == 201, response.data
        assert self.call("POST", "/auth/confirm", {"email": email, "code": "123456"}).status_code == 200
        return self.login(email, kwargs.get("password", "Correct-Horse-9!"))

    def join(self, owner_token: str, email: str, role: str) -> tuple[str, str]:
        """Invite ``email`` with ``role`` and have them accept; returns (user_id, token)."""
        invite = self.call("POST", "/invitations", {"email": email, "role": role}, token=owner_token)
        assert invite.status_code == 201, invite.data
        token = self.register(email, company=None, name="Team Mate", invitation=invite.data["token"])
        user_id = self.call("GET", "/me", token=token).data["user_id"]
        return user_id, token
