"""The loudspeaker through SDL's mixer; absent (None) when the machine has no usable audio output."""

from __future__ import annotations

import logging

import numpy as np
import pygame

log = logging.getLogger("kioskd.face")


class Speaker:
    def __init__(self, rate: int) -> None:
        pygame.mixer.init(frequency=rate, size=-16, channels=1, buffer=512)
        self._channel = pygame.mixer.Channel(0)

    def play(self, pcm: np.ndarray) -> None:
        self._channel.play(pygame.mixer.Sound(buffer=pcm.astype(np.int16).tobytes()))

    def stop(self) -> None:
        self._channel.stop()


def open_speaker(rate: int) -> Speaker | None:
    try:
        return Speaker(rate)
    except pygame.error as exc:
        log.warning("no audio output (%s): playing silently on the clock; recordings still get the sound", exc)
        return None
