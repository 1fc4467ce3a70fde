"""What counts as the sound a visitor's speech comes in, for the rejoin window (kiosk/endpointing.py): a chunk the
level, echo and WebRTC gates pass that rises over the quiet of the gap, never the room's steady noise."""

from __future__ import annotations

import numpy as np

from daemon.config import load
from kiosk.utterances import SOUND_RISE_DB, UtteranceDetector
from models.vad_silero import CHUNK


def _noise(rng: np.random.Generator, dbfs: float) -> np.ndarray:
    x = rng.normal(0, 1, CHUNK)
    return (x / np.sqrt(np.mean(x**2)) * 32768 * 10 ** (dbfs / 20)).astype(np.int16)


def test_a_steady_noise_is_never_sound_and_a_rise_over_it_is() -> None:
    """White noise at -30 dBFS (±2 dB), a loud fan: it passes the level floor and WebRTC hears every chunk of it
    as voice, but it is the room, not a word starting; the same noise 20 dB louder is."""
    det = UtteranceDetector(load().vad)
    rng = np.random.default_rng(0)
    steady = [det._judge(_noise(rng, -30 + rng.uniform(-2, 2)), None)[1] for _ in range(40)]
    assert not any(steady)
    assert all(det._judge(_noise(rng, -30 + SOUND_RISE_DB + 8), None)[1] for _ in range(3))
    assert not det.in_speech  # Silero does not call white noise speech: none of this opened a turn


def test_sound_needs_the_echo_gate_too() -> None:
    """The kiosk's own voice coming back is not the visitor's speech starting, however loud."""
    det = UtteranceDetector(load().vad)
    rng = np.random.default_rng(1)
    for _ in range(10):
        det._judge(_noise(rng, -60), None)
    assert det._judge(_noise(rng, -30), None)[1]
    assert not det._judge(_noise(rng, -30), echo_dbfs=-20)[1]
