"""The name an upload is stored and shown under: the file name a user sent, made harmless to display.

Browsers, scripts and S3 keys send paths, control characters and Unicode format characters (a
right-to-left override turns ``invoice\u202ecod.csv`` into "invoicevsc.doc" on screen). S3 keys
are built by :mod:`chalicelib.lake.layout` from ids, so none of this is a traversal; it is about
what a colleague reads in the portal.
"""
from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 120
DEFAULT = "upload"
# Cc: controls (NUL, ESC, newlines); Cf: format (bidi overrides and isolates, zero-width, BOM); Cs: lone
# surrogates, which cannot even be encoded to store.
_REMOVED = frozenset(("Cc", "Cf", "Cs"))
_EXTENSION = re.compile(r"(?:\.[A-Za-z0-9]{1,8})?\.(?:gz|zip)$|\.[A-Za-z0-9]{1,8}$", re.IGNORECASE)
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def display_name(sent: str, default: str = DEFAULT) -> str:
    """The last path component (``/`` or ``\\``), without control or format characters, whitespace collapsed,
    at most ``MAX_CHARS`` long with its extension kept; ``default`` (plus the extension) when nothing is left."""
    text = "".join(" " if char.isspace() else char for char in unicodedata.normalize("NFC", str(sent or ""))
                   if char.isspace() or unicodedata.category(char) not in _REMOVED)
    name = " ".join(re.split(r"[/\\]", text)[-1].split()).rstrip(" .")
    match = _EXTENSION.search(name)
    extension = match.group(0) if match else ""
    stem = name[:len(name) - len(extension)]
    if not stem.strip(" ."):
        return default + extension
    if len(name) > MAX_CHARS:
        stem = stem[:MAX_CHARS - len(extension)].rstrip(" .") or default
    return stem + extension


def key_name(name: str) -> str:
    """Plain ASCII for the S3 key segment of a portal upload (accents folded, anything else ``_``)."""
    folded = "".join(unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii") or "_"
                     for char in display_name(name))
    return re.sub(r"_+", "_", _KEY_UNSAFE.sub("_", folded)).strip(" .") or DEFAULT
