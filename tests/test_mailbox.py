"""The latest-frame-wins mailbox: newest frame only, never a torn one, even with a writer killed mid-frame."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import struct
import time
import zlib

from daemon.mailbox import Mailbox

FRAME = 64 * 1024


def _frame(i: int) -> bytes:
    body = bytes([i % 251]) * (FRAME - 8)
    return struct.pack("<II", i, zlib.crc32(body)) + body


def _whole(data: bytes) -> int:
    i, crc = struct.unpack_from("<II", data)
    assert zlib.crc32(data[8:]) == crc, f"torn frame {i}"
    return int(i)


def test_reader_gets_only_the_newest_frame() -> None:
    box = Mailbox.create(f"kioskd-test.{os.getpid()}.box", FRAME)
    try:
        assert box.read() is None
        for i in range(5):
            box.write(_frame(i))
        seq, data = box.read()
        assert _whole(data) == 4 and seq == 5
        assert box.read() is None  # nothing newer
    finally:
        box.close()
        box.unlink()


def _write_forever(name: str) -> None:
    box = Mailbox.attach(name)
    i = 0
    while True:
        box.write(_frame(i))
        i += 1


def test_no_torn_frame_while_writers_are_killed() -> None:
    box = Mailbox.create(f"kioskd-test.{os.getpid()}.kill", FRAME)
    ctx = mp.get_context("fork")
    frames = 0
    try:
        for _ in range(20):
            p = ctx.Process(target=_write_forever, args=(box.name,))
            p.start()
            until = time.monotonic() + 0.05
            while time.monotonic() < until:
                got = box.read()
                if got is not None:
                    _whole(got[1])
                    frames += 1
            os.kill(p.pid, signal.SIGKILL)
            p.join()
        assert frames > 20
    finally:
        box.close()
        box.unlink()
