"""Silero VAD on its real model: speech in a real recording, none in silence or white noise."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.audio_sources import decode_file
from models.vad_silero import CHUNK, SileroVad
from tests.speech import HUMAN_SPEECH


def probs(pcm: np.ndarray) -> np.ndarray:
    vad = SileroVad()
    return np.array([vad(pcm[i : i + CHUNK]) for i in range(0, len(pcm) - CHUNK + 1, CHUNK)])


def test_finds_speech_in_a_real_recording() -> None:
    p = probs(decode_file(HUMAN_SPEECH))
    assert (p > 0.5).mean() > 0.4  # the recording is mostly speech


def test_no_speech_in_silence_or_noise() -> None:
    rng = np.random.default_rng(0)
    assert probs(np.zeros(16000 * 3, np.int16)).max() < 0.2
    noise = (rng.standard_normal(16000 * 3) * 1500).astype(np.int16)
    assert (probs(noise) > 0.5).mean() < 0.05


def test_wrong_chunk_size_is_refused() -> None:
    with pytest.raises(ValueError, match="chunks of 512"):
        SileroVad()(np.zeros(100, np.int16))
