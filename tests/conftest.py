"""Test-wide settings: no sound card and no screen are assumed; SDL gets its dummy audio driver."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


@pytest.fixture
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> object:
    # Unix socket paths are limited to 108 bytes: keep the runtime dir short.
    path = tmp_path_factory.mktemp("run")
    return path
