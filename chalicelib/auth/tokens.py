"""Cognito JWT verification with pyjwt against the pool's JWKS, fetched once and cached."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import requests

JwksFetcher = Callable[[str], dict[str, Any]]


class InvalidToken(Exception):
    """The token is not one this pool issued for this app, or it has expired."""


def fetch_jwks(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=5)
    response.raise_for_status()
    return response.json()


class JwksCache:
    """Public keys by ``kid``; refetched when stale or when an unknown ``kid`` appears (rate-limited)."""

    def __init__(self, url: str, fetch: JwksFetcher = fetch_jwks, max_age: float = 3600.0,
                 min_refetch_interval: float = 60.0) -> None:
        self.url = url
        self._fetch = fetch
        self._max_age = max_age
        self._min_refetch = min_refetch_interval
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if age > self._max_age or (kid not in self._keys and age > self._min_refetch):
                self._refresh()
            try:
                return self._keys[kid]
            except KeyError:
                raise InvalidToken("unknown signing key") from None

    def _refresh(self) -> None:
        try:
            jwks = jwt.PyJWKSet.from_dict(self._fetch(self.url))
        except (requests.RequestException, jwt.PyJWKSetError, ValueError) as exc:
            if not self._keys:
                raise InvalidToken(f"signing keys unavailable: {exc}") from exc
            return  # keep serving the keys we have
        self._keys = {k.key_id: k.key for k in jwks.keys if k.key_id}
        self._fetched_at = time.monotonic()


@dataclass(frozen=True)
class Claims:
    sub: str
    issued_at: int
    email: str
    raw: dict[str, Any]


class TokenVerifier:
    """Checks signature (RS256 only), ``iss``, ``exp``, that it is an access token, and its ``client_id``.

    The API is documented to take access tokens only: an id token (meant for the client to read the user's
    profile) is refused even though Cognito signs it with the same key."""

    def __init__(self, issuer: str, client_id: str, jwks: JwksCache, leeway: int = 0) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks
        self.leeway = leeway

    def verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256" or not header.get("kid"):
                raise InvalidToken("unexpected token header")
            claims = jwt.decode(
                token,
                self.jwks.key(header["kid"]),
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if claims["token_use"] != "access":
            raise InvalidToken("send the access token from /auth/login, not the id or refresh token")
        if claims.get("client_id") != self.client_id:
            raise InvalidToken("token was issued for another app client")
        return Claims(sub=claims["sub"], issued_at=int(claims["iat"]),
                      email=claims.get("email", ""), raw=claims)


def bearer_token(header_value: str | None) -> str:
    """The token from an ``Authorization: Bearer <token>`` header (a bare token is accepted too)."""
    parts = (header_value or "").split(None, 1)
    if parts and parts[0].lower() == "bearer":
        parts = parts[1:]
    value = parts[0].strip() if parts else ""
    if not value:
        raise InvalidToken("no token")
    return value
