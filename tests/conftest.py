"""Test-wide settings: no sound card and no screen are assumed; SDL gets its dummy audio driver."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.received import Received

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


@pytest.fixture
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> object:
    # Unix socket paths are limited to 108 bytes: keep the runtime dir short.
    path = tmp_path_factory.mktemp("run")
    return path


@pytest.fixture
def supervisor_messages(runtime_dir: Path) -> Iterator[Received]:
    """The supervisor's end of the event bus for a worker run in-process, drained by a thread (a worker
    waits when its datagrams are not read): every message received, in order."""
    from daemon.bus import Bus
    from daemon.worker import bus_path

    bus = Bus(bus_path(runtime_dir, "supervisor"))
    received = Received()
    done = threading.Event()

    def drain() -> None:
        while not done.is_set():
            if (msg := bus.recv(timeout=0.05)) is not None:
                received.append(msg)

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    yield received
    done.set()
    drainer.join()
    bus.close()
