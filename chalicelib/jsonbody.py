"""A request body's bytes to a JSON value, bounded before it is believed. Pure: no HTTP, no I/O.

Shared by ``http.parse_body`` (every route with a body) and the signed webhook routes, which read
``raw_body`` themselves: the size (413), the encoding (UTF-8 only, as RFC 8259 asks; a UTF-8 BOM is
tolerated), how deep the value nests and how many values it holds (400), and lone surrogates
(``"\\ud800"`` is valid JSON, yet no UTF-8 store, S3 object or log line can hold it).
"""
from __future__ import annotations

import codecs
import json
import re
from typing import Any

from chalicelib import errors

MAX_JSON_BYTES = 1024 * 1024  # the largest JSON body a route takes (an Explore filter list fits many times)
MAX_JSON_DEPTH = 32
MAX_JSON_ITEMS = 100_000
_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads joins escaped pairs: what is left is a lone half


def load(raw: bytes, max_bytes: int = MAX_JSON_BYTES, empty: Any = None) -> Any:
    """The JSON value of ``raw`` (``empty`` for a blank body); raises BodyTooLarge or BadJson saying what to fix."""
    if len(raw) > max_bytes:
        raise errors.BodyTooLarge(f"The request body is {len(raw):,} bytes; this route takes at most "
                                  f"{max_bytes:,}.")
    text = _utf8(raw)
    if not text.strip():
        return empty
    try:
        data = json.loads(text)
    except RecursionError:
        raise errors.BadJson(f"The JSON body nests too deep; at most {MAX_JSON_DEPTH} levels.") from None
    except ValueError:
        raise errors.BadJson() from None
    check_shape(data)
    return data


def _utf8(raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
        raise errors.BadJson("The request body looks like UTF-16 text; send JSON encoded as UTF-8.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.BadJson(f"The request body is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position "
                             f"{exc.start:,}); send JSON encoded as UTF-8.") from None


def check_shape(data: Any) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH, holding more than MAX_JSON_ITEMS values, or a lone surrogate.

    Iterative, so a deep value costs a refusal, not a RecursionError.
    """
    pending, items = [(data, 1)], 0
    while pending:
        value, depth = pending.pop()
        items += 1
        if depth > MAX_JSON_DEPTH:
            raise errors.BadJson(f"The JSON body nests too deep; at most {MAX_JSON_DEPTH} levels.")
        if items > MAX_JSON_ITEMS:
            raise errors.BadJson(f"The JSON body holds too many values; at most {MAX_JSON_ITEMS:,}.")
        if isinstance(value, dict):
            if any(_SURROGATE.search(key) for key in value):
                raise _lone_surrogate()
            pending.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            pending.extend((child, depth + 1) for child in value)
        elif isinstance(value, str) and _SURROGATE.search(value):
            raise _lone_surrogate()


def _lone_surrogate() -> errors.BadJson:
    return errors.BadJson("The JSON body holds a lone UTF-16 surrogate escape (such as \\ud800 without its pair), "
                          "which is not text; send the character itself, or both halves of its pair.")
