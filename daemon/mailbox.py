"""Latest-frame-wins mailbox in POSIX shared memory: a seqlock for video frames between processes.

A late video frame is worthless, so there is no queue: the writer overwrites the one slot and the reader
takes whatever is newest. Header: `seq` (u64). The writer makes `seq` odd with a SEQ_CST store (so the
frame's writes cannot move above it on aarch64), writes the frame, then makes `seq` even with a RELEASE
store. The reader loads `seq` (ACQUIRE), copies, then loads `seq` again after an ACQUIRE fence: the copy
is whole only if both reads saw the same even value, otherwise it retries. A writer killed mid-frame
leaves `seq` odd; the restarted writer's next frame makes it even again, and readers see no torn frame
in between (they report "nothing new").
"""

from __future__ import annotations

import atomicshm
from atomicshm import ACQUIRE, RELEASE, SEQ_CST

from daemon.ring import _Mapping  # the same tracker-free attach as the rings

_SEQ, _LEN = 0, 8
_DATA = 64


class Mailbox:
    def __init__(self, shm: object, owner: bool) -> None:
        self._shm = shm
        self._buf = shm.buf  # type: ignore[attr-defined]
        self._view = atomicshm.AtomicView(self._buf)
        self._owner = owner
        self.name: str = shm.name  # type: ignore[attr-defined]
        self.size = len(self._buf) - _DATA
        self._seen = 0

    @classmethod
    def create(cls, name: str, size: int) -> Mailbox:
        from multiprocessing import shared_memory

        shm = shared_memory.SharedMemory(name=name, create=True, size=_DATA + size)
        shm.buf[:_DATA] = bytes(_DATA)
        return cls(shm, owner=True)

    @classmethod
    def attach(cls, name: str) -> Mailbox:
        return cls(_Mapping(name), owner=False)

    def write(self, frame: bytes | memoryview) -> None:
        if len(frame) > self.size:
            raise ValueError(f"mailbox {self.name}: frame of {len(frame)} bytes exceeds its {self.size}")
        v = self._view
        seq = v.load_u64(_SEQ, ACQUIRE)
        seq += 1 if seq % 2 == 0 else 0  # a predecessor killed mid-write left it odd: stay odd
        v.store_u64(_SEQ, seq, SEQ_CST)
        v.store_u64(_LEN, len(frame), RELEASE)
        self._buf[_DATA : _DATA + len(frame)] = frame
        v.store_u64(_SEQ, seq + 1, RELEASE)

    def read(self, retries: int = 100) -> tuple[int, bytes] | None:
        """(sequence, frame) if a frame newer than the last one read is complete, else None."""
        v = self._view
        for _ in range(retries):
            s1 = v.load_u64(_SEQ, ACQUIRE)
            if s1 % 2 or s1 == self._seen:  # being written (or its writer died mid-frame), or not new
                return None
            n = v.load_u64(_LEN, ACQUIRE)
            data = bytes(self._buf[_DATA : _DATA + min(n, self.size)])
            atomicshm.fence(ACQUIRE)
            if v.load_u64(_SEQ, ACQUIRE) == s1:
                self._seen = s1
                return s1 // 2, data
        return None

    def close(self) -> None:
        self._view.close()
        self._buf = None
        self._shm.close()  # type: ignore[attr-defined]

    def unlink(self) -> None:
        if not self._owner:
            raise PermissionError(f"mailbox {self.name}: only the creating process unlinks")
        self._shm.unlink()  # type: ignore[attr-defined]
