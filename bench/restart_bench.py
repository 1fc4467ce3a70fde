"""Restart benchmark: a headless kioskd whose workers are SIGKILLed (and SIGSTOPped: a hang) in turn,
timed from the fault to the new process reporting ready, with where that time went.

    python -m bench.restart_bench [--rounds N] [--json OUT.json]

A kill is timed from the signal; a hang from the SIGSTOP, so it includes the HANG_S of silence the
supervisor waits before it calls the worker hung. Each worker is killed, then hung: its second fast
failure, whose back-off the silence has already covered. Rounds are HEALTHY_S apart, so the back-off
has reset. Each restart's spawn-to-ready time is split into the
worker's setup (models, from the disk caches after the first boot) and the rest (Python and imports).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.runner import BenchError, Kiosk
from bench.stats import pct
from daemon.control import request
from daemon.events import Event
from daemon.lifecycle import HEALTHY_S
from daemon.paths import control_socket
from daemon.worker_table import PIPELINE

WAIT_S = 30.0
SETTLE_S = 1.0  # after a restart, before the next fault: the restarted worker's first heartbeats


def _pid(kiosk: Kiosk, name: str) -> int:
    workers = request(control_socket(kiosk.run_dir), {"cmd": "status"})["workers"]
    return int(next(w["pid"] for w in workers if w["name"] == name))


def _fault(kiosk: Kiosk, name: str, sig: signal.Signals) -> dict[str, Any]:
    kiosk.events.poll()
    seen = len(kiosk.events.events)
    pid = _pid(kiosk, name)
    fault_ns = time.monotonic_ns()
    os.kill(pid, sig)
    deadline = time.monotonic() + WAIT_S
    ready: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        kiosk.events.poll()
        for ev in kiosk.events.events[seen:]:
            if ev.get("worker") != name:
                continue
            if ev["event"] == Event.WORKER_READY:
                ready = ev
            elif ev["event"] == Event.WORKER_RESTART and ready is not None:
                return {"worker": name, "fault": sig.name, "fault_to_ready_ms": round((ev["t_ns"] - fault_ns) / 1e6),
                        "spawn_to_ready_ms": ready["start_ms"], "setup_ms": ready["setup_ms"]}
        time.sleep(0.02)
    raise BenchError(f"{name} not back within {WAIT_S:.0f} s of {sig.name}")


def run(rounds: int, console: Console) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="kioskd-restarts-"))
    kiosk = Kiosk(workdir, [])
    trials: list[dict[str, Any]] = []
    try:
        with console.status("starting kioskd"):
            kiosk.wait_ready()
        for r in range(rounds):
            if r:
                # Repeated failures within HEALTHY_S back off longer by design; a round starts from a
                # healthy pipeline so each measures the first restart.
                with console.status(f"round {r + 1}/{rounds}: waiting {HEALTHY_S:.0f} s for the back-off to reset"):
                    time.sleep(HEALTHY_S + 1)
            for name in PIPELINE:
                for sig in (signal.SIGKILL, signal.SIGSTOP):
                    with console.status(f"round {r + 1}/{rounds}: {sig.name} {name}"):
                        trials.append(_fault(kiosk, name, sig))
                        time.sleep(SETTLE_S)
    finally:
        kiosk.stop()
    summary: dict[str, Any] = {}
    for name in PIPELINE:
        for sig in ("SIGKILL", "SIGSTOP"):
            mine = [t for t in trials if t["worker"] == name and t["fault"] == sig]
            summary[f"{name} {sig}"] = {key: pct([t[key] for t in mine]) for key in
                                        ("fault_to_ready_ms", "spawn_to_ready_ms", "setup_ms")}
    return {"rounds": rounds, "machine_cpus": os.cpu_count(), "summary": summary, "trials": trials}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=1, help="faults per worker and kind, a minute apart (default 1)")
    p.add_argument("--json", help="write the figures here too")
    args = p.parse_args()
    console = Console()
    result = run(args.rounds, console)
    table = Table(title=f"restart times, {args.rounds} round(s), p50 / p95 ms")
    for col in ("fault", "fault → ready", "spawn → ready", "of which setup", "target"):
        table.add_column(col)
    for key, s in result["summary"].items():
        target = "≤ 2000" if key.endswith("SIGKILL") else "≤ 4000"
        table.add_row(key, *(f"{s[k]['p50']:.0f} / {s[k]['p95']:.0f}" for k in
                             ("fault_to_ready_ms", "spawn_to_ready_ms", "setup_ms")), target)
    console.print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
