"""Outgoing webhooks: signed like incoming ones (``v1`` HMAC-SHA256 over ``<timestamp>.<body>``), sent only to
public HTTPS hosts (an SSRF guard checked again before every attempt, and the connection made to the very address
it approved, so a second DNS answer cannot point it elsewhere), retried with backoff on transient failures.

Receivers verify with :func:`verify`; the ``SalesLens-Delivery`` id stays the same across retries so they can
drop a delivery they already processed.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

import requests
from requests.adapters import HTTPAdapter

from chalicelib.errors import BadSignature, ValidationFailed
from chalicelib.webhooks import signing

MAX_URL_CHARS = 2048
USER_AGENT = "SalesLens-Webhooks/1"
TIMESTAMP_HEADER = "SalesLens-Timestamp"
SIGNATURE_HEADER = "SalesLens-Signature"
DELIVERY_HEADER = "SalesLens-Delivery"
ERROR_CHARS = 300

Resolver = Callable[[str, int], list[str]]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256(secret, b"<timestamp>." + body)>``: the scheme our own webhook intake checks."""
    return signing.sign(secret, body, timestamp)


def verify(secret: str, header_timestamp: str | int, header_signature: str, body: bytes, now: float,
           tolerance: int = signing.TOLERANCE_SECONDS) -> bool:
    """True when ``header_signature`` signs ``body`` at ``header_timestamp`` with ``secret`` and the timestamp is
    within ``tolerance`` seconds of ``now`` (what a receiver should check; constant-time comparison)."""
    try:
        timestamp = int(str(header_timestamp).strip())
        signing.check_timestamp(timestamp, now, tolerance)
    except (ValueError, BadSignature):
        return False
    expected = sign(secret, timestamp, body)
    matched = False
    for given in (header_signature or "").split(","):
        matched |= hmac.compare_digest(expected.encode(), given.strip().lower().encode())
    return matched


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to right now (IPv4 and IPv6)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


def _refuse(problem: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, [{"field": "webhook_url", "problem": problem}])


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global)


def check_webhook_url(url: str, allow_loopback: bool = False, resolver: Resolver = resolve) -> str:
    """``url`` if SalesLens may POST to it, else :class:`ValidationFailed` saying what to change.

    HTTPS only (plain HTTP only to a loopback receiver when ``allow_loopback``, for local development and tests);
    no ``user:pass@``; at most 2048 characters; and every address the host resolves to must be public, so a
    tenant cannot point us at our own network (cloud metadata at 169.254.169.254, private ranges, loopback).
    """
    _approved(url, allow_loopback, resolver)
    return (url or "").strip()


def _approved(url: str, allow_loopback: bool, resolver: Resolver) -> tuple[SplitResult, list[str]]:
    """The checked URL's parts and the addresses it was approved at (see :func:`check_webhook_url`)."""
    url = (url or "").strip()
    if len(url) > MAX_URL_CHARS:
        raise _refuse("too long", f"The webhook URL is {len(url):,} characters; keep it to {MAX_URL_CHARS:,}.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("not a URL", "The webhook URL is not a valid URL; use https://host/path.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _refuse("not https", "The webhook URL must start with https:// and name a host.")
    if parts.username is not None or parts.password is not None:
        raise _refuse("credentials in URL", "Remove the user name and password from the webhook URL: we sign "
                                            "every delivery, so your receiver can check the signature instead.")
    host = parts.hostname
    try:
        addresses = resolver(host, port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise _refuse("host not found", f"The webhook host {host[:100]} could not be found (DNS). Check the URL.")
    loopback = all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)
    if allow_loopback and loopback:
        return parts, addresses
    if parts.scheme != "https":
        raise _refuse("not https", "The webhook URL must use https://: deliveries carry your sales figures.")
    if any(_blocked(a) for a in addresses):
        raise _refuse("private address", f"The webhook host {host[:100]} resolves to a private, loopback or "
                                         "otherwise non-public address; use a host reachable from the internet.")
    return parts, addresses


def _pinned(parts: SplitResult, address: str) -> tuple[str, dict[str, str]]:
    """The URL with its host replaced by the approved ``address``, and the Host header naming the host again (TLS
    still checks the host's own certificate: :class:`PinnedAdapter`)."""
    try:
        ipaddress.ip_address(parts.hostname or "")
        return parts.geturl(), {}  # already an address: nothing to look up again
    except ValueError:
        pass
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    return parts._replace(netloc=netloc).geturl(), {"Host": host}


class PinnedAdapter(HTTPAdapter):
    """Connects to the address in the URL while TLS (SNI and the certificate check) names the host in the Host
    header: the connection goes where the SSRF check looked, and a certificate for the name is still required."""

    def build_connection_pool_key_attributes(self, request: requests.PreparedRequest, verify: Any,
                                             cert: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        named = request.headers.get("Host")
        if named and host_params["scheme"] == "https":
            hostname = urlsplit(f"//{named}").hostname
            pool_kwargs = {**pool_kwargs, "server_hostname": hostname, "assert_hostname": hostname}
        return host_params, pool_kwargs


def pinned_session() -> requests.Session:
    session = requests.Session()
    adapter = PinnedAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass(frozen=True)
class Attempted:
    """The outcome of one delivery: ``sent`` once the receiver answered 2xx, else ``failed`` with the last error."""

    status: str
    attempts: int
    http_status: int | None
    error: str
    delivery_id: str = ""


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class WebhookSender:
    """POSTs signed JSON to a tenant's receiver; ``sleep`` and ``clock`` are injectable for tests."""

    def __init__(self, session: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, attempts: int = 4,
                 backoff: tuple[float, ...] = (1.0, 2.0, 4.0), timeout: float = 5.0, allow_loopback: bool = False,
                 resolver: Resolver = resolve) -> None:
        self.session = session or pinned_session()
        self.sleep = sleep
        self.clock = clock
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.allow_loopback = allow_loopback
        self.resolver = resolver

    def deliver(self, url: str, secret: str, payload: dict[str, Any], delivery_id: str = "") -> Attempted:
        """Send ``payload`` until the receiver takes it (2xx), refuses it (4xx but 429, or a redirect, which is
        never followed) or ``attempts`` run out; each attempt is signed with the time it is sent at."""
        delivery_id = delivery_id or str(uuid.uuid4())
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
        http_status: int | None = None
        error = ""
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                self.sleep(self.backoff[min(attempt - 2, len(self.backoff) - 1)])
            try:  # the address may have changed since the URL was saved or since the last attempt (DNS rebinding)
                parts, addresses = _approved(url, self.allow_loopback, self.resolver)
            except ValidationFailed as exc:
                return Attempted("failed", attempt, None, exc.message[:ERROR_CHARS], delivery_id)
            http_status, error = self._post(*_pinned(parts, addresses[0]), secret, body, delivery_id)
            if http_status is not None and 200 <= http_status < 300:
                return Attempted("sent", attempt, http_status, "", delivery_id)
            if http_status is not None and not _retryable(http_status):
                break
        return Attempted("failed", attempt, http_status, error[:ERROR_CHARS], delivery_id)

    def _post(self, url: str, host: dict[str, str], secret: str, body: bytes,
              delivery_id: str) -> tuple[int | None, str]:
        timestamp = int(self.clock())
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, DELIVERY_HEADER: delivery_id,
                   TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body), **host}
        try:
            with self.session.post(url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False,
                                   stream=True) as response:  # stream: never read a huge answer we do not need
                status = response.status_code
        except requests.Timeout:
            return None, f"The receiver did not answer within {self.timeout:g} seconds."
        except requests.exceptions.SSLError:
            return None, ("The receiver's TLS certificate was not accepted: it must be valid for the webhook's host "
                          "and issued by a public certificate authority.")
        except requests.RequestException as exc:
            return None, f"Could not connect to the receiver ({type(exc).__name__})."
        if 200 <= status < 300:
            return status, ""
        if 300 <= status < 400:
            return status, f"The receiver answered HTTP {status} (a redirect); redirects are not followed."
        return status, f"The receiver answered HTTP {status}."
