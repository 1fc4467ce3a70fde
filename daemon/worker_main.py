"""Entry point of one worker process: `run(SPEC.json)` in a process forked from the zygote (see
daemon/spawner.py), or `python -m daemon.worker_main SPEC.json` to run one by hand."""

from __future__ import annotations

import ctypes
import faulthandler
import importlib
import json
import os
import signal
import sys
from pathlib import Path

from setproctitle import setproctitle

from daemon import log_setup
from daemon.stage import Stage
from daemon.worker import WorkerSpec, run_worker
from daemon.worker_table import BY_NAME

PR_SET_PDEATHSIG = 1

def die_with_parent() -> None:
    """If the supervisor is SIGKILLed, its zygote exits and the kernel sends this worker SIGTERM
    (PR_SET_PDEATHSIG), so no orphan keeps the camera, the speaker or a model's memory; the supervisor's
    resource tracker then removes the shared memory."""
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent or parent == 1:  # the parent died before the request took effect
        sys.exit(0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = WorkerSpec.from_json(json.loads(Path(argv[0]).read_text()))
    setproctitle(f"kioskd: {spec.name}")
    die_with_parent()
    # A crash in native code (SDL, FFmpeg, onnxruntime, llama.cpp) leaves a Python stack in the journal.
    faulthandler.enable()
    log_setup.configure(spec.name)
    info = BY_NAME[spec.name]
    if info.nice:
        os.nice(info.nice)
    # Imported only here, so a process loads only its own stage's models.
    stage: type[Stage] = importlib.import_module(info.module).WORKER
    return run_worker(stage, spec)


def run(spec_path: str) -> None:
    """Target of a process forked from the zygote; its exit code is the worker's."""
    # multiprocessing hands every forked child the fork server's "alive" pipe, so that the child could
    # fork in turn; the fork server exits only when every holder has closed it. A worker never forks,
    # and holding it would keep the zygote (and so this worker, through PDEATHSIG) alive after a
    # SIGKILLed supervisor: close it. (Private to multiprocessing; tests/test_supervisor_death.py
    # notices if it moves.)
    from multiprocessing import forkserver

    alive = forkserver._forkserver._forkserver_alive_fd
    if alive is not None:
        os.close(alive)
        forkserver._forkserver._forkserver_alive_fd = None
    sys.exit(main([spec_path]))


if __name__ == "__main__":
    sys.exit(main())
