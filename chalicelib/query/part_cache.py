"""A per-process disk cache of committed Parquet parts, so the local engine scans files instead of S3 per query.

A committed part never changes in place, so bucket, key and ETag name its bytes: a hit is checked with one HEAD
(a part deleted and written again under the same key has a new ETag and is fetched anew). The cache only ever
holds what the engine asks for, and the engine asks only for keys a tenant's committed manifests list, so
tenant scoping and "committed only" stay where they are decided (:func:`chalicelib.lake.batches.committed_files`).
Parts a query is reading are pinned; the least recently used unpinned parts go when the cache outgrows its bound,
and when a query's parts do not all fit beside the pinned ones, the query reads them from S3 instead.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_BYTES = 2 * 1024**3


@dataclass
class _Entry:
    path: str
    size: int
    pins: int = 0


class PartCache:
    """Local copies of immutable S3 objects in a private temporary directory, at most ``max_bytes`` in all."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, directory: str | None = None) -> None:
        self.max_bytes, self.directory = max_bytes, directory
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()
        self._fetching: dict[str, threading.Lock] = {}
        self._checked: dict[tuple[str, str], tuple[str, str]] = {}  # (bucket, key) → (lake version, entry name)
        self._used = 0
        self.hits = self.misses = 0

    @property
    def size(self) -> int:
        """Bytes held (or being downloaded) now."""
        return self._used

    @contextmanager
    def local(self, s3: Any, bucket: str, keys: list[str], version: str | None = None) -> Iterator[list[str] | None]:
        """Local paths of ``keys``, in order, kept until the block ends; None when they do not all fit.

        ``version`` is the lake's version marker: a part already checked under the same version is not checked
        again (any rewrite of a committed part comes with a commit, which changes the version).
        """
        pinned: list[str] = []
        try:
            for key in keys:
                name = self._trusted(bucket, key, version)
                if name is None:
                    name = self._acquire(s3, bucket, key)
                    if name is not None and version is not None:  # on disk now: trusted while the version holds
                        with self._lock:
                            if len(self._checked) > 100_000:
                                self._checked.clear()
                            self._checked[(bucket, key)] = (version, name)
                if name is None:
                    break
                pinned.append(name)
            with self._lock:
                paths = [self._entries[name].path for name in pinned] if len(pinned) == len(keys) else None
            yield paths
        finally:
            with self._lock:
                for name in pinned:
                    self._entries[name].pins -= 1
                self._evict(0)

    def _trusted(self, bucket: str, key: str, version: str | None) -> str | None:
        """The pinned entry of a part checked under this lake version, if it is still held."""
        if version is None:
            return None
        with self._lock:
            checked_version, name = self._checked.get((bucket, key), ("", ""))
            entry = self._entries.get(name) if checked_version == version else None
            if entry is None:
                return None
            entry.pins += 1
            self._entries.move_to_end(name)
            self.hits += 1
            return name

    def _acquire(self, s3: Any, bucket: str, key: str) -> str | None:
        """The pinned entry name of ``key``'s current version, fetched if need be; None if it cannot fit."""
        head = s3.head_object(Bucket=bucket, Key=key)
        name = hashlib.sha256(f"{bucket}\0{key}\0{head['ETag']}".encode()).hexdigest()
        with self._lock:
            fetching = self._fetching.setdefault(name, threading.Lock())
        with fetching:  # one download per part, however many queries want it at once
            with self._lock:
                entry = self._entries.get(name)
                if entry is not None:
                    entry.pins += 1
                    self._entries.move_to_end(name)
                    self.hits += 1
                    return name
                size = int(head["ContentLength"])
                if not self._evict(size):
                    return None
                entry = self._entries[name] = _Entry(os.path.join(self._root(), name + ".parquet"), size, pins=1)
                self._used += size  # reserved, and pinned, while it downloads
                self.misses += 1
            try:
                body = s3.get_object(Bucket=bucket, Key=key, IfMatch=head["ETag"])["Body"]
                with open(entry.path + ".download", "wb") as out:
                    shutil.copyfileobj(body, out, 1024 * 1024)
                os.replace(entry.path + ".download", entry.path)
            except BaseException:
                with self._lock:
                    self._drop(name)
                raise
            return name

    def _evict(self, room: int) -> bool:
        """Drop unpinned parts, least recently used first, until ``room`` more bytes fit; False if they cannot."""
        for name in [name for name, entry in self._entries.items() if not entry.pins]:
            if self._used + room <= self.max_bytes:
                break
            self._drop(name)
        return self._used + room <= self.max_bytes

    def _drop(self, name: str) -> None:
        entry = self._entries.pop(name)
        self._used -= entry.size
        for path in (entry.path, entry.path + ".download"):
            if os.path.exists(path):
                os.unlink(path)

    def _root(self) -> str:
        if self.directory is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="saleslens-parts-")  # 0700, removed at exit
            self.directory = self._temporary.name
        return self.directory
