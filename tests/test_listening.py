"""The utterance detector on real and synthetic audio: noise, hum, music, clipping, distant babble and
silence open no turn; real speech is found, also at 10 dB SNR over noise. (bench/listening_bench.py
gives the same figures over hours of noise.)"""

from __future__ import annotations

import numpy as np
import pytest

from bench.listening_bench import utterances
from bench.noise import at_snr, lobby, pink
from kiosk.audio_sources import decode_file
from tests.speech import HUMAN_SPEECH, espeak, silence

SECONDS = 120
RNG = np.random.default_rng(11)
NOISES = lobby(SECONDS * 16000, RNG, espeak)


@pytest.mark.parametrize("name", list(NOISES))
def test_noise_opens_no_turn(name: str) -> None:
    assert utterances(NOISES[name]) == []


def test_real_speech_is_found() -> None:
    found = utterances(np.concatenate([silence(1.0), decode_file(HUMAN_SPEECH), silence(1.0)]))
    # Harvard sentences with short pauses: one to four utterances covering most of the 10.8 s.
    assert 1 <= len(found) <= 4 and sum(found) > 7


@pytest.mark.parametrize("noise", ["white", "pink"])
def test_speech_at_10_db_snr_is_found(noise: str) -> None:
    questions = ["What are your opening hours?", "Where is the nearest ATM?", "I lost my card.",
                 "Can I speak to a person?", "Do I need an appointment?", "Where are the toilets?"]
    missed = 0
    for q in questions:
        speech = np.concatenate([silence(1.0), espeak(q), silence(1.0)])
        bed = RNG.standard_normal(len(speech)) if noise == "white" else pink(len(speech), RNG)
        missed += len(utterances(at_snr(speech, bed, 10))) != 1
    assert missed <= 1
