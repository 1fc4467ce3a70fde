"""Single-producer single-consumer record ring in POSIX shared memory, lock-free.

Layout: a header of 64-byte lines (so the producer's and the consumer's counters never share a cache
line), then the data area. A record is a u32 length, a u32 CRC-32C of the payload (google-crc32c, in
hardware where the CPU has it: zlib's CRC-32 cost ~1 µs per KiB on each side) and the payload,
padded to 8 bytes; a length of 0xFFFFFFFF marks the unused end of the area where the producer wrapped.
`head` and `tail` are byte counters that only grow (64 bits do not wrap in this machine's lifetime).

Memory ordering, all through real atomic instructions (atomicshm: C11 atomics on the shared buffer),
because plain stores are not ordered on aarch64 (Ascend hosts) even where x86_64 would forgive them:

- producer publishes `head` with a RELEASE (here SEQ_CST, see below) store after writing the record, and
  the consumer reads `head` with ACQUIRE: everything written before the store is visible after the load,
  so a record is never read half-written. A producer killed mid-write never published it: the restarted
  producer writes over the partial bytes from the same `head`. No torn record can be delivered; the CRC
  is a second line of defence against anything else scribbling on the segment.
- the consumer advances `tail` with a compare-and-swap after copying the record out, and the producer
  reads `tail` with ACQUIRE before reusing space: the copy has finished before the space is rewritten.
  A consumer killed mid-read had not advanced `tail`; its successor reads the record again.
- drop-oldest rings: the producer frees space by advancing `tail` with the same compare-and-swap. If it
  wins the race for a record the consumer was copying, the consumer's CAS fails and it discards its copy,
  which may have been overwritten, and retries.
- wake-up: a consumer with nothing to read sleeps on a futex word (`wake`) instead of spinning. It raises
  `waiting`, re-checks `head`, then sleeps; the producer stores `head`, then reads `waiting`, and bumps
  `wake` + FUTEX_WAKE only when someone sleeps. Both pairs are SEQ_CST: this store-then-load handshake
  (Dekker's) needs a total order, or each side could miss the other's store and the consumer would
  sleep through a record until its timeout.

A record may take up to half the capacity: larger ones can find no contiguous room at some positions
even in an empty ring.

Generation counters (`producer_gen`, `consumer_gen`) count the attaches of each side, so the supervisor
and `kioskctl status` can see that a side restarted; `reset()` discards what a dead consumer left behind.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import platform
import struct
import time
from collections.abc import Sequence
from multiprocessing import shared_memory
from typing import Literal

import atomicshm
import google_crc32c
from atomicshm import ACQUIRE, RELAXED, SEQ_CST

Policy = Literal["drop_newest", "drop_oldest"]
Role = Literal["producer", "consumer"]

_HEAD, _TAIL, _WAKE, _WAITING, _CAP, _POLICY, _DROPS, _PGEN, _CGEN, _CORRUPT = (
    0, 64, 128, 132, 192, 200, 256, 320, 328, 336)
_DATA = 384
_REC = struct.Struct("<II")  # length, crc32
_WRAP = 0xFFFFFFFF
_POLICIES: dict[str, int] = {"drop_newest": 0, "drop_oldest": 1}

_FUTEX_WAIT, _FUTEX_WAKE = 0, 1
_SYS_FUTEX = {"x86_64": 202, "aarch64": 98}.get(platform.machine())
_libc = ctypes.CDLL(None, use_errno=True)


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _futex(addr: int, op: int, val: int, timeout: float | None = None) -> None:
    if _SYS_FUTEX is None:  # an architecture we have no syscall number for: a short sleep instead
        if op == _FUTEX_WAIT:
            time.sleep(min(timeout if timeout is not None else 0.002, 0.002))
        return
    ts = None
    if timeout is not None:
        ts = _Timespec(int(timeout), int((timeout % 1) * 1e9))
    _libc.syscall(_SYS_FUTEX, ctypes.c_void_p(addr), op, val, ctypes.byref(ts) if ts else None, None, 0)


def _crc(data: bytes | memoryview) -> int:
    return int(google_crc32c.value(data))


def _align(n: int) -> int:
    return (n + 7) & ~7


class _Mapping:
    """An existing segment mapped without multiprocessing's resource tracker: in Python 3.11 the tracker
    of a process that merely attaches would unlink the supervisor's segment when that process exits."""

    def __init__(self, name: str) -> None:
        fd = os.open(f"/dev/shm/{name}", os.O_RDWR)
        try:
            self._mmap = mmap.mmap(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
        self.name = name
        self.buf = memoryview(self._mmap)

    def close(self) -> None:
        self.buf.release()
        self._mmap.close()


class Ring:
    def __init__(self, shm: shared_memory.SharedMemory | _Mapping, owner: bool) -> None:
        self._shm = shm
        self._buf = shm.buf
        self._owner = owner
        self._view = atomicshm.AtomicView(shm.buf)
        self.name = shm.name
        self.capacity = self._view.load_u64(_CAP, ACQUIRE)
        self._drop_oldest = self._view.load_u32(_POLICY, ACQUIRE) == _POLICIES["drop_oldest"]
        self._wake_addr = self._view.address + _WAKE
        # Each side caches the other side's counter and reloads it only when the cached value says
        # "full" (producer) or "empty" (consumer): counters only grow, so a stale value is merely
        # pessimistic, and most operations then cost one atomic load fewer.
        self._tail_seen = 0
        self._head_seen = 0

    @classmethod
    def create(cls, name: str, capacity: int, policy: Policy = "drop_newest") -> Ring:
        """Create the segment (supervisor only: it alone unlinks)."""
        capacity = _align(capacity)
        shm = shared_memory.SharedMemory(name=name, create=True, size=_DATA + capacity)
        shm.buf[:_DATA] = bytes(_DATA)
        with atomicshm.AtomicView(shm.buf) as view:
            view.store_u32(_POLICY, _POLICIES[policy], RELAXED)
            view.store_u64(_CAP, capacity, SEQ_CST)
        return cls(shm, owner=True)

    @classmethod
    def attach(cls, name: str, role: Role | None = None) -> Ring:
        try:
            ring = cls(_Mapping(name), owner=False)
        except FileNotFoundError:
            raise FileNotFoundError(f"ring {name}: no such shared-memory segment") from None
        if role is not None:
            ring._view.fetch_add_u64(_PGEN if role == "producer" else _CGEN, 1, SEQ_CST)
        return ring

    # -- counters ---------------------------------------------------------------------------------
    @property
    def drops(self) -> int:
        return self._view.load_u64(_DROPS, RELAXED)

    @property
    def corrupt(self) -> int:
        """Records skipped because their CRC did not match (should stay 0)."""
        return self._view.load_u64(_CORRUPT, RELAXED)

    @property
    def generations(self) -> tuple[int, int]:
        """(producer attaches, consumer attaches)."""
        return self._view.load_u64(_PGEN, RELAXED), self._view.load_u64(_CGEN, RELAXED)

    def __len__(self) -> int:
        """Bytes in use (records, padding and wrap gaps)."""
        return self._view.load_u64(_HEAD, ACQUIRE) - self._view.load_u64(_TAIL, ACQUIRE)

    # -- producer ---------------------------------------------------------------------------------
    def put(self, data: bytes | memoryview) -> bool:
        """Append one record; never blocks. A full ring drops (per its policy), counts it and returns
        False when the new record was the one dropped."""
        head = self._view.load_u64(_HEAD, RELAXED)  # only this side writes it
        end = self._append(data, head, head)
        if end is None:
            return False
        self._publish(end)
        return True

    def put_many(self, records: Sequence[bytes | memoryview]) -> int:
        """Append records in order and publish them together: one `head` store and at most one wake-up
        for the batch, which is where a stream of small records spends its time. Stores the longest
        prefix of `records` that fits and returns its length; the rest are dropped and counted.
        Drop-oldest makes room only from records published before this call."""
        published = head = self._view.load_u64(_HEAD, RELAXED)
        stored = 0
        for data in records:
            end = self._append(data, head, published)
            if end is None:
                self._view.fetch_add_u64(_DROPS, len(records) - stored - 1, RELAXED)  # _append counted one
                break
            head = end
            stored += 1
        if head != published:
            self._publish(head)
        return stored

    def _append(self, data: bytes | memoryview, head: int, published: int) -> int | None:
        """Write one record at `head`, not yet visible to the consumer; the new head, or None when the
        record was dropped."""
        v, cap, n = self._view, self.capacity, len(data)
        need = (_REC.size + n + 7) & ~7
        if need > cap:
            raise ValueError(f"ring {self.name}: record of {n} bytes exceeds capacity {cap}")
        pos = head % cap
        gap = cap - pos if cap - pos < need else 0
        while cap - (head - self._tail_seen) < gap + need:
            tail = v.load_u64(_TAIL, ACQUIRE)
            if tail != self._tail_seen:
                self._tail_seen = tail
                continue
            if not self._drop_oldest or not self._drop_one(tail, published):
                v.fetch_add_u64(_DROPS, 1, RELAXED)
                return None
        buf = self._buf
        if gap:
            struct.pack_into("<I", buf, _DATA + pos, _WRAP)
            pos = 0
        start = _DATA + pos + _REC.size
        _REC.pack_into(buf, start - _REC.size, n, _crc(data))
        buf[start : start + n] = data
        return head + gap + need

    def _publish(self, head: int) -> None:
        v = self._view
        v.store_u64(_HEAD, head, SEQ_CST)  # release + the Dekker order with `waiting`
        if v.load_u32(_WAITING, SEQ_CST):
            v.fetch_add_u32(_WAKE, 1, SEQ_CST)
            _futex(self._wake_addr, _FUTEX_WAKE, 1)

    def _drop_one(self, tail: int, head: int) -> bool:
        """Drop-oldest: advance `tail` past the oldest record (or wrap gap). False if there is none."""
        if tail == head:
            return False
        pos = tail % self.capacity
        room = self.capacity - pos
        length = struct.unpack_from("<I", self._buf, _DATA + pos)[0] if room >= 4 else _WRAP
        step = room if length == _WRAP else _align(_REC.size + length)
        if self._view.cas_u64(_TAIL, tail, tail + step) == tail and length != _WRAP:
            self._view.fetch_add_u64(_DROPS, 1, RELAXED)
        return True

    # -- consumer ---------------------------------------------------------------------------------
    def get_nowait(self) -> bytes | None:
        records = self._take(1)
        return records[0] if records else None

    def get_many(self, max_records: int = 256) -> list[bytes]:
        """Up to `max_records` pending records in order, taken with one `tail` update ([] if none)."""
        return self._take(max_records)

    def _take(self, limit: int) -> list[bytes]:
        v, cap, buf = self._view, self.capacity, self._buf
        while True:
            first = tail = v.load_u64(_TAIL, ACQUIRE)
            head = self._head_seen
            if tail >= head:
                head = self._head_seen = v.load_u64(_HEAD, ACQUIRE)
                if tail == head:
                    return []
            out: list[bytes] = []
            bad = 0
            while len(out) < limit:
                if tail >= head:  # the cached head is used up: there may be more since
                    head = self._head_seen = v.load_u64(_HEAD, ACQUIRE)
                    if tail >= head:
                        break
                pos = tail % cap
                room = cap - pos
                length, crc = _REC.unpack_from(buf, _DATA + pos) if room >= _REC.size else (_WRAP, 0)
                if length == _WRAP:
                    tail += room
                    continue
                if _REC.size + length > room:
                    break  # a damaged length: handled below, alone
                start = _DATA + pos + _REC.size
                data = bytes(buf[start : start + length])
                tail += (_REC.size + length + 7) & ~7
                if _crc(data) == crc:
                    out.append(data)
                else:
                    bad += 1
            if tail == first:  # the first record's length runs past the end of the area
                if v.load_u64(_TAIL, ACQUIRE) == first:  # not a race with a drop: the segment is damaged
                    v.fetch_add_u64(_CORRUPT, 1, RELAXED)
                    v.cas_u64(_TAIL, first, head)
                continue
            if v.cas_u64(_TAIL, first, tail) != first:
                continue  # the producer dropped records while we copied them: take them again
            if bad:
                v.fetch_add_u64(_CORRUPT, bad, RELAXED)
            if out:
                return out

    def get(self, timeout: float | None = None) -> bytes | None:
        """Next record, sleeping on the futex (never spinning) up to `timeout` seconds (None: forever)."""
        v = self._view
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            data = self.get_nowait()
            if data is not None:
                return data
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            seq = v.load_u32(_WAKE, ACQUIRE)
            v.store_u32(_WAITING, 1, SEQ_CST)
            if v.load_u64(_HEAD, SEQ_CST) == v.load_u64(_TAIL, ACQUIRE):
                _futex(self._wake_addr, _FUTEX_WAIT, seq, remaining)
            v.store_u32(_WAITING, 0, SEQ_CST)

    # -- lifecycle --------------------------------------------------------------------------------
    def reset(self) -> None:
        """Discard every pending record (the supervisor, before a restarted consumer attaches)."""
        self._view.store_u64(_TAIL, self._view.load_u64(_HEAD, ACQUIRE), SEQ_CST)

    def close(self) -> None:
        self._view.close()
        self._buf = None  # type: ignore[assignment]
        self._shm.close()

    def unlink(self) -> None:
        if not isinstance(self._shm, shared_memory.SharedMemory) or not self._owner:
            raise PermissionError(f"ring {self.name}: only the creating process unlinks")
        self._shm.unlink()
