"""The process tree: workers fork from a single-threaded zygote, the brain runs niced, and a supervisor
killed with SIGKILL leaves nothing behind: zygote and workers exit, shared memory is removed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from bench.procs import _parent, processes
from daemon.worker_table import BY_NAME, PIPELINE
from tests.test_end_to_end import kioskd, wait_ready


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_sigkill_of_the_supervisor_leaves_no_orphans_or_segments(runtime_dir: Path) -> None:
    proc = kioskd("--audio-in", "none", run_dir=runtime_dir)
    try:
        wait_ready(runtime_dir)
        tree = processes(proc.pid)
        # Workers are the zygote's children, named for ps; the zygote forks from one thread only.
        assert set(PIPELINE) | {"kioskd", "zygote"} <= set(tree), tree
        assert all(_parent(tree[name]) == tree["zygote"] for name in PIPELINE)
        assert _threads(tree["zygote"]) == 1
        # The LLM's background generation yields the CPU to the voice; the rest of the path is not niced.
        base = os.getpriority(os.PRIO_PROCESS, proc.pid)
        assert {name: os.getpriority(os.PRIO_PROCESS, tree[name]) for name in PIPELINE} == {
            name: min(19, base + BY_NAME[name].nice) for name in PIPELINE}
        pids = [pid for name, pid in tree.items() if name != "kioskd"]
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
    assert not alive, f"orphaned processes: {alive}"
    assert not segments, f"leaked shared memory: {segments}"
