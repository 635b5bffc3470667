"""SQL aggregates kept as files next to this module, so the query engine can scope and transpile them."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@cache
def sql(name: str) -> str:
    """The text of ``<name>.sql`` from this folder; names are plain words, never paths."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"Unknown aggregate {name!r}: use a plain name such as 'customer_features'.")
    path = _HERE / f"{name}.sql"
    if not path.is_file():
        raise ValueError(f"Unknown aggregate {name!r}: there is no {name}.sql.")
    text = path.read_text(encoding="utf-8")
    for fragment in set(re.findall(r"\{\{(\w+)\}\}", text)):  # shared CTEs, e.g. {{baskets}} → _baskets.sql
        shared = (_HERE / f"_{fragment}.sql").read_text(encoding="utf-8")
        body = "\n".join(line for line in shared.splitlines() if not line.startswith("--"))
        text = text.replace("{{" + fragment + "}}", body.strip())
    return text
