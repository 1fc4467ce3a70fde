"""The shared-memory ring: FIFO order, wrap-around, drop-and-count when full, and real cross-process use."""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.ring import Ring


def _name(tag: str) -> str:
    return f"kioskd-test.{os.getpid()}.{tag}"


@given(st.lists(st.one_of(st.binary(min_size=0, max_size=300), st.none()), max_size=200))
@settings(max_examples=60, deadline=None)
def test_behaves_like_a_bounded_fifo(ops: list[bytes | None]) -> None:
    """Random puts (bytes) and gets (None) against a model: same records, same order, drops counted."""
    ring = Ring.create(_name("model"), 1024)
    try:
        model: deque[bytes] = deque()
        drops = 0
        for op in ops:
            if op is None:
                assert ring.get_nowait() == (model.popleft() if model else None)
            elif ring.put(op):
                model.append(op)
            else:
                drops += 1
        assert ring.drops == drops
        assert [ring.get_nowait() for _ in model] == list(model)
        assert ring.get_nowait() is None
    finally:
        ring.close()
        ring.unlink()


def test_full_ring_drops_newest_and_counts() -> None:
    ring = Ring.create(_name("full"), 256)
    try:
        accepted = sum(ring.put(bytes([i]) * 20) for i in range(20))
        assert 0 < accepted < 20
        assert ring.drops == 20 - accepted
        assert ring.get_nowait() == bytes([0]) * 20  # the oldest records survive
    finally:
        ring.close()
        ring.unlink()


def test_oversized_record_is_refused_clearly() -> None:
    ring = Ring.create(_name("big"), 64)
    try:
        with pytest.raises(ValueError, match="exceeds capacity"):
            ring.put(bytes(100))
    finally:
        ring.close()
        ring.unlink()


def _consume(name: str, count: int, out: mp.Queue) -> None:
    ring = Ring.attach(name)
    digest = hashlib.sha256()
    got = 0
    while got < count:
        data = ring.get(timeout=10)
        if data is None:
            break
        digest.update(data)
        got += 1
    ring.close()
    out.put((got, digest.hexdigest()))


def test_records_cross_real_processes_intact() -> None:
    """A producer here, a consumer in another process: every record arrives whole and in order,
    through many wrap-arounds of a small ring."""
    ring = Ring.create(_name("xproc"), 4096)
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    records = [os.urandom(1 + (i * 37) % 900) for i in range(3000)]
    consumer = ctx.Process(target=_consume, args=(ring.name, len(records), out))
    consumer.start()
    try:
        digest = hashlib.sha256()
        for rec in records:
            while not ring.put(rec):  # this test wants every record: wait for room
                pass
            digest.update(rec)
        got, their = out.get(timeout=60)
        consumer.join(timeout=10)
        assert got == len(records)
        assert their == digest.hexdigest()
    finally:
        if consumer.is_alive():
            consumer.kill()
        ring.close()
        ring.unlink()


def test_only_the_creator_unlinks() -> None:
    ring = Ring.create(_name("owner"), 128)
    other = Ring.attach(ring.name)
    try:
        with pytest.raises(PermissionError):
            other.unlink()
    finally:
        other.close()
        ring.close()
        ring.unlink()
