"""The shared-memory ring: FIFO against a model, both full-ring policies, futex wake-up, real
cross-process traffic with checksums, producers SIGKILLed mid-write, a scribbled record, and the C hot
path's checksum and memory."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import struct
import time
import zlib
from collections import deque

import google_crc32c
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bench.procs import field_mb
from daemon import _ringcore
from daemon.ring import Ring

_counter = iter(range(10**9))


def _name(tag: str) -> str:
    return f"kioskd-test.{os.getpid()}.{tag}.{next(_counter)}"


class DropNewestMachine(RuleBasedStateMachine):
    """Random puts and gets against a deque: same records in the same order; a full ring refuses the
    new record, counts it, and keeps everything older."""

    policy = "drop_newest"

    def __init__(self) -> None:
        super().__init__()
        self.ring = Ring.create(_name("model"), 512, self.policy)
        self.model: deque[bytes] = deque()
        self.dropped = 0

    @rule(data=st.binary(max_size=200))
    def put(self, data: bytes) -> None:
        before = len(self.model)
        if self.ring.put(data):
            self.model.append(data)
        else:
            self.dropped += 1
            assert len(self.model) == before

    @rule(batch=st.lists(st.binary(max_size=120), max_size=6))
    def put_many(self, batch: list[bytes]) -> None:
        stored = self.ring.put_many(batch)
        self.model.extend(batch[:stored])
        self.dropped += len(batch) - stored

    @rule()
    def get(self) -> None:
        assert self.ring.get_nowait() == (self.model.popleft() if self.model else None)

    @rule(limit=st.integers(1, 5))
    def get_many(self, limit: int) -> None:
        assert self.ring.get_many(limit) == [self.model.popleft() for _ in range(min(limit, len(self.model)))]

    @invariant()
    def drops_counted(self) -> None:
        assert self.ring.drops == self.dropped

    def teardown(self) -> None:
        assert [self.ring.get_nowait() for _ in self.model] == list(self.model)
        assert self.ring.get_nowait() is None
        self.ring.close()
        self.ring.unlink()


class DropOldestMachine(RuleBasedStateMachine):
    """Drop-oldest: every put succeeds; what comes out is always the newest records, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.ring = Ring.create(_name("oldest"), 512, "drop_oldest")
        self.sent: list[bytes] = []
        self.got: list[bytes] = []
        self.refused = 0  # newest records of a batch that did not fit behind the rest of it

    @rule(data=st.binary(max_size=200))
    def put(self, data: bytes) -> None:
        assert self.ring.put(data)
        self.sent.append(data)

    @rule(batch=st.lists(st.binary(max_size=120), max_size=6))
    def put_many(self, batch: list[bytes]) -> None:
        stored = self.ring.put_many(batch)
        assert stored >= min(1, len(batch))  # the first always fits once older records make room
        self.sent += batch[:stored]
        self.refused += len(batch) - stored

    @rule()
    def get(self) -> None:
        data = self.ring.get_nowait()
        if data is not None:
            self.got.append(data)

    @rule(limit=st.integers(1, 5))
    def get_many(self, limit: int) -> None:
        self.got += self.ring.get_many(limit)

    def teardown(self) -> None:
        while (data := self.ring.get_nowait()) is not None:
            self.got.append(data)
        # In order, each at most once, the last one sent always kept, the rest counted as drops.
        idx = [self.sent.index(d, i) for i, d in zip(self._starts(), self.got, strict=True)]
        assert idx == sorted(set(idx))
        if self.sent:
            assert self.got and self.got[-1] == self.sent[-1]
        assert self.ring.drops == len(self.sent) - len(self.got) + self.refused
        self.ring.close()
        self.ring.unlink()

    def _starts(self) -> list[int]:
        # Position from which to search each received record: just after the previous match.
        out, pos = [], 0
        for d in self.got:
            out.append(pos)
            pos = self.sent.index(d, pos) + 1
        return out


TestDropNewest = DropNewestMachine.TestCase
TestDropNewest.settings = settings(max_examples=60, stateful_step_count=60, deadline=None)
TestDropOldest = DropOldestMachine.TestCase
TestDropOldest.settings = settings(max_examples=60, stateful_step_count=60, deadline=None)


def test_oversized_record_is_refused_clearly() -> None:
    ring = Ring.create(_name("big"), 64)
    try:
        with pytest.raises(ValueError, match="exceeds capacity"):
            ring.put(bytes(100))
    finally:
        ring.close()
        ring.unlink()


@given(st.binary(max_size=2000), st.booleans())
def test_checksum_is_crc32c_with_and_without_the_cpu_instruction(data: bytes, hardware: bool) -> None:
    assert _ringcore.crc32c(data, hardware) == google_crc32c.value(data)


def test_scribbled_record_is_skipped_and_counted() -> None:
    ring = Ring.create(_name("scribble"), 4096)
    try:
        for i in range(3):
            ring.put(bytes([i]) * 100)
        ring._buf[_ringcore.DATA + 112 + _ringcore.RECORD_HEADER + 50] ^= 0xFF  # inside the second payload
        assert ring.get_many() == [bytes([0]) * 100, bytes([2]) * 100]
        assert ring.corrupt == 1
    finally:
        ring.close()
        ring.unlink()


def test_hot_path_keeps_no_memory() -> None:
    """Every record crosses the C code as a new bytes object: a reference kept there would leak 1 KiB each."""
    ring = Ring.create(_name("leak"), 1 << 20)
    try:
        record = bytes(1024)
        ring.put_many([record] * 500)
        ring.get_many(500)
        before = field_mb("/proc/self/status", "RssAnon:")
        for _ in range(400):
            assert ring.put_many([record] * 250) == 250
            assert len(ring.get_many(250)) == 250
            for _ in range(250):
                ring.put(memoryview(record))
                ring.get_nowait()
        assert field_mb("/proc/self/status", "RssAnon:") - before < 8  # 200,000 records went through: a leak would be ~200 MB
    finally:
        ring.close()
        ring.unlink()


def test_waiting_consumer_sleeps_and_wakes_promptly() -> None:
    """A blocked get() costs (almost) no CPU and returns soon after a record arrives."""
    ring = Ring.create(_name("wake"), 4096)
    try:
        cpu0, t0 = time.process_time(), time.monotonic()
        assert ring.get(timeout=0.5) is None
        assert time.monotonic() - t0 >= 0.5
        assert time.process_time() - cpu0 < 0.05  # asleep, not spinning
    finally:
        ring.close()
        ring.unlink()


def _late_put(name: str, delay: float) -> None:
    ring = Ring.attach(name, "producer")
    time.sleep(delay)
    ring.put(struct.pack("<d", time.monotonic()))
    ring.close()


def test_wake_up_crosses_processes() -> None:
    ring = Ring.create(_name("xwake"), 4096)
    ctx = mp.get_context("fork")
    p = ctx.Process(target=_late_put, args=(ring.name, 0.3))
    p.start()
    try:
        data = ring.get(timeout=5)
        woke = time.monotonic()
        assert data is not None
        assert woke - struct.unpack("<d", data)[0] < 0.02  # woken by the futex, not a polling interval
        assert ring.generations == (1, 0)
    finally:
        p.join(5)
        ring.close()
        ring.unlink()


def _record(seq: int) -> bytes:
    body = os.urandom(1 + (seq * 7919) % 700)
    return struct.pack("<QII", seq, len(body), zlib.crc32(body)) + body


def _check(data: bytes) -> int:
    seq, n, crc = struct.unpack_from("<QII", data)
    body = data[16:]
    assert len(body) == n and zlib.crc32(body) == crc, f"torn or corrupt record {seq}"
    return int(seq)


def _consume(name: str, count: int, batched: bool, out: mp.Queue) -> None:
    ring = Ring.attach(name, "consumer")
    expected = 0
    while expected < count:
        got = ring.get_many(64) if batched else []
        if not got:
            data = ring.get(timeout=10)
            if data is None:
                break
            got = [data]
        for data in got:
            if _check(data) != expected:
                break
            expected += 1
        else:
            continue
        break
    try:
        ring.unlink()
        unlinked = True
    except PermissionError:
        unlinked = False
    ring.close()
    out.put((expected, unlinked))


@pytest.mark.parametrize("batched", [False, True], ids=["put-get", "put_many-get_many"])
def test_a_million_records_cross_processes_intact(batched: bool) -> None:
    """Variable-size records with seq, length and CRC through a small ring, many wrap-arounds: nothing
    lost, nothing corrupted, in order (the producer sends again what a full ring refused)."""
    count = 1_000_000
    ring = Ring.create(_name("xproc"), 64 * 1024)
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    consumer = ctx.Process(target=_consume, args=(ring.name, count, batched, out))
    consumer.start()
    try:
        records = [_record(i) for i in range(2048)]
        seq = 0
        while seq < count:
            size = 1 + seq % 37 if batched else 1
            batch = [struct.pack("<Q", s) + records[s % 2048][8:] for s in range(seq, min(count, seq + size))]
            stored = ring.put_many(batch) if batched else int(ring.put(batch[0]))
            seq += stored
            if stored < len(batch):
                time.sleep(0)
        got, unlinked = out.get(timeout=120)
        assert got == count
        assert not unlinked  # only the creator may unlink
        assert ring.corrupt == 0
    finally:
        consumer.join(10)
        if consumer.is_alive():
            consumer.kill()
        ring.close()
        ring.unlink()


def _produce_forever(name: str, first_seq: int) -> None:
    ring = Ring.attach(name, "producer")
    seq = first_seq
    while True:
        if ring.put(_record(seq)):
            seq += 1


def test_producer_killed_mid_write_never_tears_a_record() -> None:
    """SIGKILL the producer 100 times at random moments and restart it: the consumer only ever reads
    whole records, and carries on after each restart."""
    ring = Ring.create(_name("kill"), 16 * 1024)
    ctx = mp.get_context("fork")
    rng = __import__("random").Random(7)
    delivered = 0
    try:
        for attempt in range(100):
            p = ctx.Process(target=_produce_forever, args=(ring.name, attempt * 10**9))
            p.start()
            deadline = time.monotonic() + rng.uniform(0.005, 0.03)
            while time.monotonic() < deadline:
                data = ring.get(timeout=0.01)
                if data is not None:
                    assert _check(data) // 10**9 == attempt
                    delivered += 1
            os.kill(p.pid, signal.SIGKILL)
            p.join()
            while (data := ring.get_nowait()) is not None:  # what it published before dying is whole
                assert _check(data) // 10**9 == attempt
                delivered += 1
        assert delivered > 100
        assert ring.corrupt == 0
        assert 90 <= ring.generations[0] <= 100  # a producer killed before it attached does not count
    finally:
        ring.close()
        ring.unlink()
