"""The insights step: the most important findings from the artifacts this run produced, in plain sentences."""
from __future__ import annotations

from typing import Any

from chalicelib.analytics import insights
from jobs.steps.base import Output, Skip


def insights_step(state: Any) -> Output:
    """Reads this run's outputs (shared in memory), never the previous run's."""
    frame = insights.generate(state.results)
    if frame.empty:
        raise Skip("Nothing stands out yet: insights appear once there is more history.")
    return Output({"insights": (frame, {"count": len(frame)})})
