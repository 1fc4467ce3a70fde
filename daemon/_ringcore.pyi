"""Types of the ring's C hot path (daemon/_ringcore.c)."""

from collections.abc import Sequence

HEAD: int
TAIL: int
WAKE: int
WAITING: int
CAP: int
POLICY: int
DROPS: int
PGEN: int
CGEN: int
CORRUPT: int
DATA: int
RECORD_HEADER: int
WRAP: int

def crc32c(data: bytes | memoryview, hardware: bool = True, /) -> int: ...

class Core:
    def __init__(self, segment: memoryview, prefault: bool = False, /) -> None: ...
    def put(self, data: bytes | memoryview, /) -> bool: ...
    def put_many(self, records: Sequence[bytes | memoryview], /) -> int: ...
    def take(self, limit: int, /) -> list[bytes]: ...
    def take_one(self) -> bytes | None: ...
    def wait(self, timeout: float, /) -> None: ...
    def close(self) -> None: ...
