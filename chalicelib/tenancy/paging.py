"""Page tokens for listings of a company's items (audit events, feedback): the DynamoDB sort key to resume after,
base64-encoded. Only the sort key travels; the tenant always comes from the caller's context."""
from __future__ import annotations

import base64

from chalicelib.errors import ValidationFailed


def encode(sk: str) -> str:
    return base64.urlsafe_b64encode(sk.encode()).decode()


def decode(token: str, prefix: str) -> str:
    """The sort key in ``token``; a 400 unless it is one of this listing's keys (starts with ``prefix``)."""
    try:
        sk = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        sk = ""
    if not sk.startswith(prefix):
        raise ValidationFailed("The 'next' token is not valid; use the one from the previous page.",
                               [{"field": "next", "problem": "not a token this API issued"}])
    return sk
