"""The worker runtime on its own: heartbeats through a long native step, and their limit."""

from __future__ import annotations

import time
from pathlib import Path

from daemon.bus import Bus
from daemon.config import load
from daemon.worker import HEARTBEAT_S, Worker, WorkerSpec, bus_path


def _beats(supervisor: Bus) -> int:
    n = 0
    while (msg := supervisor.recv()) is not None:
        n += msg["type"] == "heartbeat"
    return n


def test_long_step_heartbeats_for_a_bounded_time(runtime_dir: Path) -> None:
    supervisor = Bus(bus_path(runtime_dir, "supervisor"))
    worker = Worker(WorkerSpec("brain", runtime_dir, load().model_dump(mode="json")))
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
        worker.bus.close()
        supervisor.close()
