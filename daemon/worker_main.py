"""Entry point of one worker process: `python -m daemon.worker_main SPEC.json`."""

from __future__ import annotations

import ctypes
import faulthandler
import importlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

from setproctitle import setproctitle

from daemon.worker import Worker, WorkerSpec

PR_SET_PDEATHSIG = 1

# Worker name -> module holding its `Worker` subclass, imported lazily so a process loads only its models.
WORKERS = {
    "ear": "daemon.workers.ear",
    "asr": "daemon.workers.asr",
    "brain": "daemon.workers.brain",
    "voice": "daemon.workers.voice",
    "face": "daemon.workers.face",
}


def worker_class(name: str) -> type[Worker]:
    cls: type[Worker] = importlib.import_module(WORKERS[name]).WORKER
    return cls


def _die_with_supervisor() -> None:
    """If the supervisor is SIGKILLed, the kernel sends this worker SIGTERM (PR_SET_PDEATHSIG), so no
    orphan keeps the camera, the speaker or a model's memory; the supervisor's resource tracker then
    removes the shared memory."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() == 1:  # the supervisor died before the request took effect
        sys.exit(0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = WorkerSpec.from_json(json.loads(Path(argv[0]).read_text()))
    setproctitle(f"kioskd: {spec.name}")
    _die_with_supervisor()
    # A crash in native code (SDL, FFmpeg, onnxruntime, llama.cpp) leaves a Python stack in the journal.
    faulthandler.enable()
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {spec.name:<5} %(levelname)s %(message)s", stream=sys.stderr
    )
    return worker_class(spec.name)(spec).run()


if __name__ == "__main__":
    sys.exit(main())
