"""The HTTP API's process, seen from the supervisor: started beside the workers (`python -m daemon.api_main`),
restarted with the workers' back-off when it dies, fed the events (privacy already applied) as bus
datagrams that it may drop. It is not part of the pipeline: the kiosk's health never waits on it, and a
slow HTTP client reaches the supervisor only through the control socket, which answers in bounded time."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from daemon.bus import Bus
from daemon.commands import Report
from daemon.config import ApiConfig
from daemon.lifecycle import Lifecycle, State
from daemon.worker import bus_path

log = logging.getLogger("kioskd")
STOP_GRACE_S = 3.0  # uvicorn is told to give up on open connections after 1 s


class ApiChild:
    def __init__(self, run_dir: Path, config: ApiConfig, bus: Bus) -> None:
        self.run_dir = run_dir
        self.config = config
        self._bus = bus
        self._to = bus_path(run_dir, "api")
        self.proc: subprocess.Popen[bytes] | None = None
        self.life = Lifecycle("api")

    def start(self) -> None:
        if self.config.listen is None:
            return
        self.proc = subprocess.Popen([sys.executable, "-m", "daemon.api_main", "--runtime-dir", str(self.run_dir),
                                      "--listen", self.config.listen, "--token-file", str(self.config.token())])
        # Running from the start: it has no readiness of its own to wait for, only an exit to notice.
        now = time.monotonic()
        self.life.spawned(now)
        self.life.ready(now)
        log.info("spawned api (pid %d) on %s", self.proc.pid, self.config.listen)

    def watch(self) -> None:
        """An exit is restarted after the back-off; FATAL after repeated fast failures (a port in use)."""
        now = time.monotonic()
        if self.proc is not None and self.life.state is State.RUNNING and (code := self.proc.poll()) is not None:
            self.life.exited(now, f"exited with code {code}")
            log.error("api %s", self.life.reason)
        elif self.life.due(now):
            self.start()

    def forward(self, event: dict[str, Any]) -> None:
        """One event for /v1/events; a full or missing API socket loses it (the API must never slow the
        supervisor, and the kernel queues only ~10 datagrams): the stream may skip events under load, the
        metrics never do."""
        if self.proc is not None and self.life.state is State.RUNNING:
            fields = {k: v for k, v in event.items() if k not in ("event", "turn", "t_ns", "worker")}
            self._bus.send(self._to, Report(str(event.get("worker", "supervisor")), event["event"], event.get("turn"),
                                            event["t_ns"], fields))

    def status(self) -> dict[str, Any]:
        return {"listen": self.config.listen, "state": "off" if self.config.listen is None else self.life.state.value,
                "pid": self.proc.pid if self.proc is not None and self.proc.poll() is None else None,
                "restarts": self.life.restarts, "reason": self.life.reason}

    def reconfigure(self, config: ApiConfig) -> None:
        """A reload changed the `api` section: the API starts again on it, its restart count fresh."""
        self.stop()
        self.config = config
        self.proc = None
        self.life = Lifecycle("api")
        self.start()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
