"""Starts worker processes by forking them from a zygote that has already imported what they need
(multiprocessing's fork server, preloaded with daemon.zygote_preload), and gives the supervisor the
small Popen-like surface it uses: pid, poll, wait, kill.

The fork server is started from the supervisor's environment, so the settings workers need before
their first thread (OMP_NUM_THREADS) are placed there first.
If the supervisor is SIGKILLed, the fork server sees its pipe close and exits, and each worker, whose
parent it is, gets SIGTERM (PR_SET_PDEATHSIG, daemon/worker_main.py).
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path

from daemon import worker_main


class WorkerProcess:
    def __init__(self, process: BaseProcess) -> None:
        self._process = process
        assert process.pid is not None
        self.pid: int = process.pid
        self.sentinel: int = process.sentinel  # readable once the process has exited

    def poll(self) -> int | None:
        """Exit code (negative: killed by that signal), or None while it runs."""
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(f"kioskd worker {self.pid}", timeout or 0.0)
        return code

    def kill(self) -> None:
        if self._process.exitcode is None:
            self._process.kill()


class Spawner:
    def __init__(self, env: dict[str, str]) -> None:
        for key, value in env.items():
            os.environ.setdefault(key, value)
        self._ctx: ForkServerContext = multiprocessing.get_context("forkserver")  # type: ignore[assignment]
        self._ctx.set_forkserver_preload(["daemon.zygote_preload"])

    def spawn(self, name: str, spec_path: Path) -> WorkerProcess:
        process = self._ctx.Process(target=worker_main.run, args=(str(spec_path),), name=f"kioskd: {name}")
        process.start()
        return WorkerProcess(process)
