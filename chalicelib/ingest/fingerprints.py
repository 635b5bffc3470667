"""Row fingerprints: per-column 64-bit hashes mixed into one int64 per row, and the set of fingerprints a file
has already produced, so a re-upload or an overlapping export is never counted twice."""
from __future__ import annotations

import numpy as np
import pandas as pd

from chalicelib.ingest.values import NAT

HASH_KEY = "saleslens-rows-1"  # 16 bytes; changing it (or the mixing below) changes every stored fingerprint
NULL_HASH = np.uint64(0x5A17E5_1E45_0001)


def combine(parts: list[np.ndarray], size: int) -> np.ndarray:
    """Mix per-column 64-bit hashes, in column order, into one int64 per row (boost's hash_combine)."""
    mixed = np.full(size, 0x9E3779B97F4A7C15, dtype=np.uint64)
    for part in parts:
        mixed ^= part + np.uint64(0x9E3779B97F4A7C15) + (mixed << np.uint64(6)) + (mixed >> np.uint64(2))
    return mixed.view(np.int64)


def hash_numbers(values: np.ndarray) -> np.ndarray:
    """Numbers to 6 decimals (so 3 × 0.1 equals 0.30) and −0 as 0; NaN and NaT hash as null."""
    if values.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):  # rounding huge values would overflow to inf
            missing, values = np.isnan(values), np.where(np.abs(values) < 1e15, np.round(values, 6), values) + 0.0
    else:
        missing = values == NAT
    return np.where(missing, NULL_HASH, pd.util.hash_array(values))


def isin_sorted(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Membership in a sorted array; the queries are sorted first, which keeps searchsorted cache-friendly."""
    if not sorted_set.size or not values.size:
        return np.zeros(len(values), dtype=bool)
    order = np.argsort(values)
    at = np.minimum(np.searchsorted(sorted_set, values[order]), sorted_set.size - 1)
    found = np.empty(len(values), dtype=bool)
    found[order] = sorted_set[at] == values[order]
    return found



class SortedRuns:
    """A growing set of int64 as a few sorted arrays, each at least twice the size of the next (a log-structured
    merge in miniature): adding a chunk costs about its own size rather than the whole file's, and a lookup
    searches a handful of arrays. Re-sorting one array per chunk made a 10M-row file move ~4 GB of memory."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        self._runs.append(np.sort(values))
        while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
            newer, older = self._runs.pop(), self._runs.pop()
            self._runs.append(np.sort(np.concatenate([older, newer]), kind="stable"))  # timsort merges two runs

    def contains(self, values: np.ndarray) -> np.ndarray:
        found = np.zeros(len(values), dtype=bool)
        for run in self._runs:
            found |= isin_sorted(values, run)
        return found

