"""Single-producer single-consumer record ring in POSIX shared memory.

Layout: a 192-byte header (head and tail byte counters on their own cache lines, capacity, drop count)
followed by the data area. A record is a u32 length and the bytes, padded to 8; a length of
0xFFFFFFFF marks the unused end of the area where the producer wrapped.

The producer only writes `head`, the consumer only writes `tail`, and each stores its counter after
the bytes it covers. On x86_64 stores are not reordered with other stores, which is all this simple
version relies on; the hardened version (atomic acquire/release, eventfd wake-up, generation counters)
replaces this module behind the same API.

A full ring never blocks the producer: `put` drops the new record, counts it and returns False.
"""

from __future__ import annotations

import struct
import time
from multiprocessing import resource_tracker, shared_memory

_HEAD, _TAIL, _CAP, _DROPS = 0, 64, 128, 136
_DATA = 192
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_WRAP = 0xFFFFFFFF


def _align(n: int) -> int:
    return (n + 7) & ~7


class Ring:
    def __init__(self, shm: shared_memory.SharedMemory, owner: bool) -> None:
        self._shm = shm
        self._buf = shm.buf
        self._owner = owner
        self.name = shm.name
        self.capacity = _U64.unpack_from(self._buf, _CAP)[0]

    @classmethod
    def create(cls, name: str, capacity: int) -> Ring:
        """Create the segment (supervisor only: it alone unlinks)."""
        capacity = _align(capacity)
        shm = shared_memory.SharedMemory(name=name, create=True, size=_DATA + capacity)
        shm.buf[:_DATA] = bytes(_DATA)
        _U64.pack_into(shm.buf, _CAP, capacity)
        return cls(shm, owner=True)

    @classmethod
    def attach(cls, name: str) -> Ring:
        shm = shared_memory.SharedMemory(name=name, create=False)
        # Python 3.11 registers attached segments with this process's resource tracker, which would
        # unlink them when the worker exits: the supervisor owns them, so stop tracking here.
        resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
        return cls(shm, owner=False)

    def _load(self, off: int) -> int:
        return _U64.unpack_from(self._buf, off)[0]

    @property
    def drops(self) -> int:
        return self._load(_DROPS)

    def __len__(self) -> int:
        """Bytes in use (records, padding and wrap gaps)."""
        return self._load(_HEAD) - self._load(_TAIL)

    def put(self, data: bytes) -> bool:
        need = _align(_U32.size + len(data))
        if need > self.capacity:
            raise ValueError(f"ring {self.name}: record of {len(data)} bytes exceeds capacity {self.capacity}")
        head, tail = self._load(_HEAD), self._load(_TAIL)
        pos = head % self.capacity
        gap = self.capacity - pos if self.capacity - pos < need else 0
        if self.capacity - (head - tail) < gap + need:
            _U64.pack_into(self._buf, _DROPS, self.drops + 1)
            return False
        if gap:
            if gap >= _U32.size:
                _U32.pack_into(self._buf, _DATA + pos, _WRAP)
            head += gap
            pos = 0
        start = _DATA + pos
        _U32.pack_into(self._buf, start, len(data))
        self._buf[start + _U32.size : start + _U32.size + len(data)] = data
        _U64.pack_into(self._buf, _HEAD, head + need)
        return True

    def get_nowait(self) -> bytes | None:
        tail = self._load(_TAIL)
        while tail != self._load(_HEAD):
            pos = tail % self.capacity
            room = self.capacity - pos
            length = _U32.unpack_from(self._buf, _DATA + pos)[0] if room >= _U32.size else _WRAP
            if length == _WRAP:
                tail += room
                _U64.pack_into(self._buf, _TAIL, tail)
                continue
            start = _DATA + pos + _U32.size
            data = bytes(self._buf[start : start + length])
            _U64.pack_into(self._buf, _TAIL, tail + _align(_U32.size + length))
            return data
        return None

    def get(self, timeout: float | None = None) -> bytes | None:
        """Next record, waiting up to `timeout` seconds (None: forever) with a bounded back-off sleep."""
        deadline = None if timeout is None else time.monotonic() + timeout
        nap = 0.0005
        while True:
            data = self.get_nowait()
            if data is not None:
                return data
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(nap)
            nap = min(nap * 2, 0.004)

    def close(self) -> None:
        self._buf = None  # type: ignore[assignment]
        self._shm.close()

    def unlink(self) -> None:
        if not self._owner:
            raise PermissionError(f"ring {self.name}: only the creating process unlinks")
        self._shm.unlink()
