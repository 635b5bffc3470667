"""Every way a token can be wrong ends in 401 before any route runs."""
from __future__ import annotations

import base64
import json
import re
import time

import boto3
import jwt
import pytest
from moto.utilities.utils import load_resource

from app import app
from chalicelib.config import get_settings

PROTECTED = "/me"


def _moto_private_key() -> dict:
    """moto signs every pool's tokens with this key: the reason ``iss`` must be checked."""
    return load_resource("cognitoidp/resources/jwks-private.json")


def _forge(claims: dict, alg: str = "RS256") -> str:
    key = jwt.PyJWK.from_dict(_moto_private_key()).key
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": "dummy"})


def _claims(**overrides) -> dict:
    s = get_settings()
    now = int(time.time())
    claims = {"iss": s.cognito_issuer, "sub": "00000000-0000-0000-0000-000000000000", "token_use": "access",
              "client_id": s.user_pool_client_id, "iat": now, "exp": now + 600}
    claims.update(overrides)
    return claims


def _status(api, token: str | None) -> int:
    response = api.call("GET", PROTECTED, token=token)
    if response.status_code == 401:
        assert response.data["error"]["code"] == "unauthorized"
    return response.status_code


def test_valid_forged_token_shape_passes_the_authorizer(api):
    token = api.register("ada@acme.example")
    sub = api.call("GET", "/me", token=token).data["user_id"]
    assert _status(api, _forge(_claims(sub=sub))) == 200  # proves the forge helper builds real tokens


@pytest.mark.parametrize("case", ["missing", "garbage", "tampered", "expired", "alg_none", "wrong_audience",
                                  "wrong_issuer", "id_token_wrong_aud", "refresh_as_access"])
def test_bad_tokens_are_401(api, case):
    token = api.register("ada@acme.example")
    sub = api.call("GET", "/me", token=token).data["user_id"]
    if case == "missing":
        bad = None
    elif case == "garbage":
        bad = "not.a.jwt"
    elif case == "tampered":
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["sub"] = "someone-else"
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        bad = f"{header}.{forged}.{signature}"
    elif case == "expired":
        bad = _forge(_claims(sub=sub, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600))
    elif case == "alg_none":
        bad = jwt.encode(_claims(sub=sub), key=None, algorithm="none", headers={"kid": "dummy"})
    elif case == "wrong_audience":
        bad = _forge(_claims(sub=sub, client_id="another-app-client"))
    elif case == "wrong_issuer":
        bad = _forge(_claims(sub=sub, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"))
    elif case == "id_token_wrong_aud":
        bad = _forge(_claims(sub=sub, token_use="id", aud="another-app-client", client_id=None))
    else:
        bad = _forge(_claims(sub=sub, token_use="refresh"))
    assert _status(api, bad) == 401


def test_token_from_another_user_pool_is_401(api):
    """A real token from a second pool in the same account: same signing key in moto, other issuer."""
    api.register("ada@acme.example")
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool = idp.create_user_pool(PoolName="someone-elses-pool", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool, ClientName="x",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                               "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.sign_up(ClientId=client_id, Username="ada@acme.example", Password="Correct-Horse-9!")
    idp.admin_confirm_sign_up(UserPoolId=pool, Username="ada@acme.example")
    auth = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "ada@acme.example", "PASSWORD": "Correct-Horse-9!"})
    assert _status(api, auth["AuthenticationResult"]["AccessToken"]) == 401


AUTHENTICATED = sorted((method, path) for path, methods in app.routes.items() for method, entry in methods.items()
                       if entry.authorizer is not None)


def test_an_id_token_is_refused_by_every_authenticated_route(api):
    """The API takes access tokens only: an id token of this very app is a 401 everywhere, before any work."""
    api.register("ada@acme.example")
    tokens = api.call("POST", "/auth/login", {"email": "ada@acme.example", "password": "Correct-Horse-9!"}).data
    assert len(AUTHENTICATED) >= 40
    for method, template in AUTHENTICATED:
        path = re.sub(r"{\w+}", "x", template)
        response = api.call(method, path, {} if method in ("POST", "PUT", "PATCH") else None, token=tokens["id_token"])
        assert response.status_code == 401, (method, path, response.status_code)
        assert "access token" in response.data["error"]["message"] or response.data["error"]["code"] == "unauthorized"
    assert _status(api, tokens["access_token"]) == 200
