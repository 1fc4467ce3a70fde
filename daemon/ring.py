"""Single-producer single-consumer record ring in POSIX shared memory, lock-free.

Layout: a header of 64-byte lines (so the producer's and the consumer's counters never share a cache
line), then the data area. A record is a u32 length, a u32 CRC-32C of the payload (in hardware where the
CPU has it) and the payload, padded to 8 bytes; a length of 0xFFFFFFFF marks the unused
end of the area where the producer wrapped.
`head` and `tail` are byte counters that only grow (64 bits do not wrap in this machine's lifetime).

The per-record work (append, publish, take, the futex wait) is C: `daemon/_ringcore.c`. In Python that work
held the ring to a fraction of its speed (README, "Performance", has the figures). This module keeps the
segment's lifecycle and counters (atomicshm). Both use real atomic instructions (C11 atomics on the
shared mapping), because plain stores are not ordered on aarch64 (Ascend hosts) even where x86_64 would
forgive them:

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

import mmap
import os
import time
from collections.abc import Sequence
from multiprocessing import shared_memory
from typing import Literal

import atomicshm
from atomicshm import ACQUIRE, RELAXED, SEQ_CST

from daemon import _ringcore
from daemon._ringcore import CAP as _CAP
from daemon._ringcore import CGEN as _CGEN
from daemon._ringcore import CORRUPT as _CORRUPT
from daemon._ringcore import DATA as _DATA
from daemon._ringcore import DROPS as _DROPS
from daemon._ringcore import HEAD as _HEAD
from daemon._ringcore import PGEN as _PGEN
from daemon._ringcore import POLICY as _POLICY
from daemon._ringcore import TAIL as _TAIL

Policy = Literal["drop_newest", "drop_oldest"]
Role = Literal["producer", "consumer"]

_POLICIES: dict[str, int] = {"drop_newest": 0, "drop_oldest": 1}


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
    def __init__(self, shm: shared_memory.SharedMemory | _Mapping, owner: bool, prefault: bool = False) -> None:
        self._shm = shm
        self._buf = shm.buf
        self._owner = owner
        self._view = atomicshm.AtomicView(shm.buf)  # the counters off the hot path
        self._core = _ringcore.Core(shm.buf, prefault)  # the hot path: append, publish, take, wait
        self.name = shm.name
        self.capacity = self._view.load_u64(_CAP, ACQUIRE)

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
        """Map an existing ring. A producer or consumer (`role`) maps every page at once, so its first
        pass round the ring takes no page faults, and counts in the ring's generation counters."""
        try:
            ring = cls(_Mapping(name), owner=False, prefault=role is not None)
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
        try:
            return self._core.put(data)
        except ValueError as exc:
            raise ValueError(f"ring {self.name}: {exc}") from None

    def put_many(self, records: Sequence[bytes | memoryview]) -> int:
        """Append records in order and publish them together: one `head` store and at most one wake-up
        for the batch. Stores the longest prefix of `records` that fits and returns its length; the rest
        are dropped and counted. Drop-oldest makes room only from records published before this call."""
        try:
            return self._core.put_many(records)
        except ValueError as exc:
            raise ValueError(f"ring {self.name}: {exc}") from None

    # -- consumer ---------------------------------------------------------------------------------
    def get_nowait(self) -> bytes | None:
        return self._core.take_one()

    def get_many(self, max_records: int = 256) -> list[bytes]:
        """Up to `max_records` pending records in order, taken with one `tail` update ([] if none)."""
        return self._core.take(max_records)

    def get(self, timeout: float | None = None) -> bytes | None:
        """Next record, sleeping on the futex (never spinning) up to `timeout` seconds (None: forever)."""
        core = self._core
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            data = core.take_one()
            if data is not None:
                return data
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            core.wait(-1.0 if remaining is None else remaining)

    # -- lifecycle --------------------------------------------------------------------------------
    def reset(self) -> None:
        """Discard every pending record (the supervisor, before a restarted consumer attaches)."""
        self._view.store_u64(_TAIL, self._view.load_u64(_HEAD, ACQUIRE), SEQ_CST)

    def close(self) -> None:
        self._core.close()
        self._view.close()
        self._buf = None  # type: ignore[assignment]
        self._shm.close()

    def unlink(self) -> None:
        if not isinstance(self._shm, shared_memory.SharedMemory) or not self._owner:
            raise PermissionError(f"ring {self.name}: only the creating process unlinks")
        self._shm.unlink()
