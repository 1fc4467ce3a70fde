"""The loudspeaker through SDL's mixer; absent (None) when the machine has no usable audio output."""

from __future__ import annotations

import logging
from collections import deque

import numpy as np
import pygame

log = logging.getLogger("kioskd.face")
KEEP_SOUNDS = 4


class Speaker:
    def __init__(self, rate: int) -> None:
        pygame.mixer.init(frequency=rate, size=-16, channels=1, buffer=512)
        self._channel = pygame.mixer.Channel(0)
        # SDL's audio thread may still be mixing a sound that Python has let go of: replacing a playing
        # sound on a channel can free it under the mixer and crash the process (pygame issue #3468,
        # seen here as a SIGSEGV after ~20 replies). So stop before starting the next sound and keep the
        # last few alive ourselves.
        self._alive: deque[pygame.mixer.Sound] = deque(maxlen=KEEP_SOUNDS)

    def play(self, pcm: np.ndarray) -> None:
        sound = pygame.mixer.Sound(buffer=pcm.astype(np.int16).tobytes())
        self._alive.append(sound)
        self._channel.stop()
        self._channel.play(sound)

    def stop(self) -> None:
        self._channel.stop()


def open_speaker(rate: int) -> Speaker | None:
    try:
        return Speaker(rate)
    except pygame.error as exc:
        log.warning("no audio output (%s): playing silently on the clock; recordings still get the sound", exc)
        return None
