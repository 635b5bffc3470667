"""Sample sales data with planted, known structure for demos, tests and benchmarks."""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["PlantedAnomaly", "SampleTruth", "dealer", "retail", "truth", "write_csv"]


def __getattr__(name: str) -> Any:
    # imported lazily so `python -m chalicelib.samples.generator` does not load the module twice
    if name in __all__:
        return getattr(importlib.import_module("chalicelib.samples.generator"), name)
    raise AttributeError(name)
