"""The worker runner on its own: heartbeats through a long native step, and their limit; memory given back
after a reply."""

from __future__ import annotations

import ctypes
import time
from pathlib import Path

from bench.procs import field_mb
from daemon.bus import Bus
from daemon.commands import Heartbeat
from daemon.config import load
from daemon.stage import LocalPort, Stage
from daemon.worker import HEARTBEAT_S, WorkerPort, WorkerSpec, bus_path


def _beats(supervisor: Bus) -> int:
    n = 0
    while (msg := supervisor.recv()) is not None:
        n += isinstance(msg, Heartbeat)
    return n


def test_long_step_heartbeats_for_a_bounded_time(runtime_dir: Path) -> None:
    supervisor = Bus(bus_path(runtime_dir, "supervisor"))
    worker = WorkerPort(WorkerSpec("brain", runtime_dir, load().model_dump(mode="json")))
    try:
        with worker.long_step(limit_s=1.2):
            time.sleep(1.0)  # a blocking call: this thread sends nothing
        assert _beats(supervisor) >= 1.0 / HEARTBEAT_S - 1
        with worker.long_step(limit_s=0.6):
            time.sleep(2.0)  # stuck past the limit: the beats stop, so the supervisor sees a hang
        assert _beats(supervisor) <= 0.6 / HEARTBEAT_S + 1
        time.sleep(2 * HEARTBEAT_S)
        assert _beats(supervisor) == 0  # and nothing is left running after the step
    finally:
        worker.close()
        supervisor.close()


def test_release_memory_gives_freed_native_heap_back() -> None:
    # What a native library leaves after a long sentence: most of many small blocks freed, the few still
    # live scattered among them, so glibc cannot shrink its heap by itself.
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(64 * 1024) for _ in range(1200)]
    for b in blocks:
        ctypes.memset(b, 1, 64 * 1024)
    live, freed = blocks[::8], [b for i, b in enumerate(blocks) if i % 8]
    for b in freed:
        libc.free(b)
    stage = Stage(load(), LocalPort())
    try:
        before = field_mb("/proc/self/status", "RssAnon:")
        stage.release_memory()
        assert before - field_mb("/proc/self/status", "RssAnon:") >= 50
    finally:
        for b in live:
            libc.free(b)
