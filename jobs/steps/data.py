"""The aggregates step: profile the data once, then fetch every aggregate the applicable steps will read."""
from __future__ import annotations

from typing import Any

from jobs.facts import Facts
from jobs.steps.base import Output


def aggregates(state: Any) -> Output:
    """Facts first (they decide what applies), then the union of the applicable steps' SQL, side by side."""
    state.facts = Facts.from_profile(state.frame("profile"))
    wanted = [name for step in state.plan if step.run is not aggregates
              and step.skip_reason(state.facts, state.config) is None
              for name in step.queries if state.has(name)]
    state.prefetch(wanted)
    facts = state.facts
    if not facts.sales_rows:
        return Output(note="No sales yet: upload transactions to see an analysis.")
    return Output(note=(f"{len(state.frames)} aggregate queries over {facts.sales_rows:,} sales rows "
                        f"({facts.days:,} days, {facts.customers:,} customers, {facts.products:,} products)."))
