"""The company's own columns in a question: ``extra:<name>`` outside, ``extra_<i>`` inside the SQL.

A column name is the company's text, so it never becomes an identifier: the compiler reads ``extras[<name>]``
with the name as a bound parameter and calls the result ``extra_<i>``; answers get their names back here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from chalicelib.query.explore_model import EXTRA, Condition, ExploreQuery, Filters, Sort

Question = TypeVar("Question", bound=Filters)


@dataclass(frozen=True)
class Renaming:
    keys: tuple[str, ...] = ()  # the extra columns a question names, in the order of their aliases

    def inside(self, name: str) -> str:
        return f"extra_{self.keys.index(name.removeprefix(EXTRA))}" if name.startswith(EXTRA) else name

    def outside(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.rename(columns={f"extra_{i}": EXTRA + key for i, key in enumerate(self.keys)})

    def query(self, question: Question) -> Question:
        """``question`` with every extra field under its SQL alias."""
        if not self.keys:
            return question
        update: dict[str, object] = {"filters": [Condition.model_construct(
            field=self.inside(c.field), op=c.op, values=c.values) for c in question.filters]}
        if isinstance(question, ExploreQuery):
            update["dimensions"] = [self.inside(d) for d in question.dimensions]
            update["sort"] = [Sort.model_construct(field=self.inside(s.field), direction=s.direction)
                              for s in question.sort]
        return question.model_copy(update=update)


def renaming(question: Filters, *names: str) -> Renaming:
    """The extra columns ``question`` (and ``names``) refer to."""
    fields = [c.field for c in question.filters] + list(names)
    if isinstance(question, ExploreQuery):
        fields += list(question.dimensions) + [s.field for s in question.sort]
    return Renaming(tuple(dict.fromkeys(f.removeprefix(EXTRA) for f in fields if f.startswith(EXTRA))))
