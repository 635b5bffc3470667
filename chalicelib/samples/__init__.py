"""Sample sales data with planted, known structure for demos, tests and benchmarks."""
from __future__ import annotations

import importlib
from typing import Any

_HOME = {"PlantedAnomaly": "generator", "SampleTruth": "generator", "retail": "generator", "truth": "generator",
         "dealer": "cars", "write_csv": "files"}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    # imported lazily so `python -m chalicelib.samples.files` does not load its module twice
    if name in _HOME:
        return getattr(importlib.import_module(f"chalicelib.samples.{_HOME[name]}"), name)
    raise AttributeError(name)
