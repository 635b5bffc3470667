"""One wall clock shared by the webhook parts, so a test can move time for all of them at once."""
from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """Unix seconds from ``source``, unless pinned (secret grace periods, signature windows, buffer ages)."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._pinned: float | None = None

    def __call__(self) -> float:
        return self._source() if self._pinned is None else self._pinned

    def pin(self, at: float | None) -> None:
        """Freeze the clock at ``at``; ``None`` lets it run again."""
        self._pinned = at
