"""JWT verification rules, with a key made here and a fake JWKS endpoint."""
from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.auth.tokens import InvalidToken, JwksCache, TokenVerifier, bearer_token

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test"
CLIENT = "client-123"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks(key=KEY, kid="k1") -> dict:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {"keys": [{**public, "kid": kid, "alg": "RS256", "use": "sig"}]}


class FakeFetch:
    def __init__(self, *documents: dict) -> None:
        self.documents = list(documents)
        self.calls = 0

    def __call__(self, url: str) -> dict:
        self.calls += 1
        return self.documents[min(self.calls, len(self.documents)) - 1]


def _token(key=KEY, kid="k1", **claims) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "user-1", "token_use": "access", "client_id": CLIENT, "iat": now, "exp": now + 60}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256",
                      headers={"kid": kid})


def _verifier(fetch=None) -> TokenVerifier:
    return TokenVerifier(ISSUER, CLIENT, JwksCache("https://example/jwks", fetch or FakeFetch(_jwks())))


def test_accepts_access_tokens_of_this_client_only():
    verifier = _verifier()
    assert verifier.verify(_token()).sub == "user-1"
    with pytest.raises(InvalidToken, match="access token"):  # an id token of this very client is not one
        verifier.verify(_token(token_use="id", client_id=None, aud=CLIENT, email="a@b.c"))


@pytest.mark.parametrize("token", [
    _token(exp=int(time.time()) - 10),
    _token(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
    _token(client_id="someone-else"),
    _token(token_use="id", client_id=None, aud="someone-else"),
    _token(token_use="refresh"),
    _token(key=OTHER_KEY),
    _token(kid="unknown"),
    _token(exp=None),
    "a.b.c",
    "",
])
def test_rejects(token):
    with pytest.raises(InvalidToken):
        _verifier().verify(token)


def test_rejects_alg_none_and_hs256_with_public_key():
    none_token = jwt.encode({"sub": "x", "iss": ISSUER, "token_use": "access", "client_id": CLIENT,
                             "iat": 1, "exp": 2**31}, None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(InvalidToken):
        _verifier().verify(none_token)
    hs_token = jwt.encode({"sub": "x"}, "secret", algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(InvalidToken):
        _verifier().verify(hs_token)


def test_keys_are_cached_and_refetched_for_a_new_kid():
    fetch = FakeFetch(_jwks(), _jwks(OTHER_KEY, kid="k2"))
    cache = JwksCache("u", fetch, min_refetch_interval=0)
    verifier = TokenVerifier(ISSUER, CLIENT, cache)
    verifier.verify(_token())
    verifier.verify(_token())
    assert fetch.calls == 1
    verifier.verify(_token(key=OTHER_KEY, kid="k2"))  # key rotation
    assert fetch.calls == 2


def test_unknown_kid_refetch_is_rate_limited():
    fetch = FakeFetch(_jwks())
    verifier = TokenVerifier(ISSUER, CLIENT, JwksCache("u", fetch, min_refetch_interval=3600))
    verifier.verify(_token())
    for _ in range(3):
        with pytest.raises(InvalidToken):
            verifier.verify(_token(kid="nope"))
    assert fetch.calls == 1


def test_bearer_token_parsing():
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("abc") == "abc"
    with pytest.raises(InvalidToken):
        bearer_token(None)
    with pytest.raises(InvalidToken):
        bearer_token("Bearer ")
