"""`chalice local` with the API Gateway behaviour the cloud stack configures (infra/resources.json).

In AWS, GatewayResponses turn "no such route" into a 404 and authorizer failures into 401/403 with
the project's JSON error body, and a Lambda authorizer failing with "Unauthorized" means 401.
Chalice's local gateway answers 403 "Missing Authentication Token" and crashes on a raising
authorizer; this subclass gives the local server and the test client the same answers as AWS.
"""
from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayException,
    NotAuthorizedError,
)
from chalice.test import Client

ROOT = Path(__file__).resolve().parents[2]

# Same shapes as the GatewayResponses in infra/resources.json.
GATEWAY_RESPONSES = {
    "not_found": (404, "No such route. Check the path and method."),
    "unauthorized": (401, "Sign in again: the access token is missing, invalid or expired."),
    "forbidden": (403, "You are not allowed to call this route."),
}


def gateway_response(kind: str) -> dict[str, Any]:
    status, message = GATEWAY_RESPONSES[kind]
    body = {"error": {"code": kind, "message": message, "details": []}}
    return {"statusCode": status, "multiValueHeaders": {}, "body": json.dumps(body),
            "headers": {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}}


class SalesLensGateway(LocalGateway):
    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> dict[str, Any]:
        try:
            return super().handle_request(method, path, headers, body)
        except ForbiddenError as exc:
            missing_route = exc.headers.get("x-amzn-ErrorType") == "UnauthorizedException"
            return gateway_response("not_found" if missing_route else "forbidden")
        except NotAuthorizedError:
            return gateway_response("unauthorized")
        except LocalGatewayException:
            raise
        except Exception as exc:  # the authorizer's "Unauthorized" convention
            if str(exc) == "Unauthorized":
                return gateway_response("unauthorized")
            raise


class SalesLensRequestHandler(ChaliceRequestHandler):
    def __init__(self, request: bytes, client_address: Any, server: Any, app_object: Chalice,
                 config: Config) -> None:
        self.local_gateway = SalesLensGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)  # type: ignore[arg-type]


def test_client(app: Chalice, stage: str = "dev") -> Client:
    """A ``chalice.test.Client`` whose HTTP side answers like the deployed API Gateway."""
    client = Client(app, stage_name=stage, project_dir=str(ROOT))
    client.http._local_gateway = SalesLensGateway(app, client.http._config)
    return client


class _LocalApp(LocalChalice):
    pass


def serve(host: str, port: int, stage: str = "dev") -> None:
    """Run the API like ``chalice local`` (same config loading, same local app class)."""
    config = CLIFactory(project_dir=str(ROOT), environ=os.environ).create_config_obj(chalice_stage_name=stage)
    app_obj = config.chalice_app
    _LocalApp.__bases__ = (LocalChalice, app_obj.__class__)
    app_obj.__class__ = _LocalApp
    server = LocalDevServer(app_obj, config, host, port, handler_cls=SalesLensRequestHandler)
    print(f"API listening on http://{host}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 8000)
