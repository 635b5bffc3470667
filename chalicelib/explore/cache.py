"""Answers kept per tenant until its data changes: the key holds the tenant, the lake's state and the question.

A new commit changes the state, so stale answers are never served and simply age out of the LRU. The cache
lives in the process (one Lambda container, or the local API): a cold container pays one query per question.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

DEFAULT_ENTRIES = 2048


class AnswerCache:
    """A bounded, thread-safe LRU of JSON-able answers."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(tenant_id: str, version: str, kind: str, question: Any) -> str:
        text = json.dumps([tenant_id, version, kind, question], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> Any | None:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
            self.misses += 1
            return None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
