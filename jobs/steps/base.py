"""What a step returns (:class:`Output`) or raises when its analysis cannot run on these data (:class:`Skip`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


class Skip(Exception):  # noqa: N818 - a step's way of saying "not applicable", not an error
    """Raised by a step that finds, once it looks at the aggregates, that its analysis cannot run."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Output:
    """Artifact name -> (frame, meta), and a note shown on the step (e.g. a part that was left out and why)."""

    artifacts: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = field(default_factory=dict)
    note: str = ""


def notes(*parts: str | None) -> str:
    """Sentences joined with a space, empty ones left out."""
    return " ".join(p.strip() for p in parts if p and p.strip())
