"""Test-wide settings: no sound card and no screen are assumed; SDL gets its dummy audio driver."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # before pygame is first imported

from kiosk.renderer import Screen

# The API's token and other state of every kioskd a test starts: never /var/lib/kioskd or the user's own.
os.environ["KIOSKD_STATE_DIR"] = tempfile.mkdtemp(prefix="kioskd-state-")
atexit.register(shutil.rmtree, os.environ["KIOSKD_STATE_DIR"], ignore_errors=True)


@pytest.fixture
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> object:
    # Unix socket paths are limited to 108 bytes: keep the runtime dir short.
    path = tmp_path_factory.mktemp("run")
    return path


@pytest.fixture
def screen() -> Iterator[Screen]:
    """A 320x180 offscreen screen (SDL's dummy video driver)."""
    s = Screen("offscreen", (320, 180))
    yield s
    s.close()
