"""A supervisor killed with SIGKILL leaves nothing behind: workers exit, shared memory is removed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from daemon.control import request
from daemon.paths import control_socket
from tests.test_end_to_end import kioskd, wait_ready


def test_sigkill_of_the_supervisor_leaves_no_orphans_or_segments(runtime_dir: Path) -> None:
    proc = kioskd("--audio-in", "none", run_dir=runtime_dir)
    try:
        wait_ready(runtime_dir)
        pids = [w["pid"] for w in request(control_socket(runtime_dir), {"cmd": "status"})["workers"]]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 20
    alive = pids
    while time.monotonic() < deadline:
        alive = [p for p in pids if Path(f"/proc/{p}").exists() and "Z" not in Path(f"/proc/{p}/stat").read_text().split()[2]]
        segments = [s for s in os.listdir("/dev/shm") if s.startswith(f"kioskd.{proc.pid}.")]
        if not alive and not segments:
            break
        time.sleep(0.2)
    assert not alive, f"orphaned workers: {alive}"
    assert not segments, f"leaked shared memory: {segments}"
