"""Byte streams that refuse, as they are read, what no table needs: an archive that inflates without end, a line
without end. Both stop after reading at most their limit (plus one read), so a hostile file costs a refusal
rather than the worker's memory, its disk or its 15 minutes."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, BinaryIO

from chalicelib import errors


class _Wrapper(io.RawIOBase):
    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def _read(self, size: int) -> bytes:
        raise NotImplementedError


class ExpansionBound(_Wrapper):
    """Decompressed bytes, refused (``refuse()``) once the stream reaches past ``limit`` bytes.

    It counts the furthest position reached, not bytes read: rewinding to sniff the head, or the second pass
    over JSON Lines, costs nothing against the limit.
    """

    def __init__(self, raw: BinaryIO, limit: int, refuse: Callable[[], errors.SalesLensError]) -> None:
        super().__init__(raw)
        self._limit, self._refuse = limit, refuse
        self._position = 0

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._position = self._raw.seek(offset, whence)
        return self._position

    def tell(self) -> int:
        return self._position

    def _read(self, size: int) -> bytes:
        data = self._raw.read(min(size, self._limit + 1))
        self._position += len(data)
        if self._position > self._limit:
            raise self._refuse()
        return data


class LineBound(_Wrapper):
    """A forward-only byte stream that refuses a line (bytes between two ``\\n``) longer than ``limit`` bytes.

    Reads are cut to ``limit`` bytes, so a line too long always spans a cut, where it is caught: the
    check costs one ``find`` and one ``rfind`` per read, whatever the line count.
    """

    def __init__(self, raw: BinaryIO, limit: int, refuse: Callable[[int], errors.SalesLensError]) -> None:
        super().__init__(raw)
        self._limit, self._refuse = limit, refuse
        self._run = 0       # bytes since the last newline
        self._line = 1      # the line those bytes belong to

    def _read(self, size: int) -> bytes:
        data = self._raw.read(max(1, min(size, self._limit)))
        first = data.find(b"\n")
        if first < 0:
            self._run += len(data)
        else:
            if self._run + first > self._limit:
                raise self._refuse(self._line)
            self._line += data.count(b"\n")
            self._run = len(data) - data.rfind(b"\n") - 1
        if self._run > self._limit:
            raise self._refuse(self._line)
        return data
