"""The utterance detector on real and synthetic audio: noise, hum, music, clipping and silence open no
turn; real speech is found, also at 10 dB SNR over noise. Prints false triggers per hour and miss rate."""

from __future__ import annotations

import numpy as np
import pytest

from daemon.audio_sources import CHUNK_NS, decode_file
from daemon.config import VadConfig
from daemon.endpointing import Kind
from daemon.utterances import UtteranceDetector
from models.vad_silero import CHUNK, SAMPLE_RATE
from tests.speech import HUMAN_SPEECH, espeak, silence

SECONDS = 120  # of each noise; the false-trigger figure is per hour
RNG = np.random.default_rng(11)


def utterances(pcm: np.ndarray, cfg: VadConfig | None = None) -> list[float]:
    """Durations (s) of the utterances the detector reports in this audio."""
    det = UtteranceDetector(cfg or VadConfig())
    starts: dict[str, int] = {}
    out = []
    pcm = np.concatenate([pcm, silence(1.0)])
    for i in range(len(pcm) // CHUNK):
        ev = det.feed(pcm[i * CHUNK : (i + 1) * CHUNK], (i + 1) * CHUNK_NS)
        if ev is None:
            continue
        if ev.kind is Kind.START:
            starts["t"] = ev.t_ns
        elif ev.kind is Kind.END:
            out.append((ev.t_ns - starts["t"]) / 1e9)
    return out


def pink(n: int) -> np.ndarray:
    spectrum = np.fft.rfft(RNG.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    x = np.fft.irfft(spectrum, n)
    return x / np.abs(x).max()


def music(n: int) -> np.ndarray:
    """Chords changing twice a second with a percussive click on each beat."""
    t = np.arange(n) / SAMPLE_RATE
    chords = [(220, 277, 330), (196, 247, 294), (175, 220, 262), (247, 311, 370)]
    x = np.zeros(n)
    for k, start in enumerate(range(0, n, SAMPLE_RATE // 2)):
        seg = slice(start, start + SAMPLE_RATE // 2)
        for f in chords[k % 4]:
            x[seg] += np.sin(2 * np.pi * f * t[seg])
        x[start : start + 400] += RNG.standard_normal(min(400, n - start)) * 2
    return x / np.abs(x).max()


def scale(x: np.ndarray, dbfs: float) -> np.ndarray:
    rms = np.sqrt(np.mean(x.astype(np.float64) ** 2))
    return (x / rms * 32768 * 10 ** (dbfs / 20)).clip(-32768, 32767).astype(np.int16)


def babble(n: int) -> np.ndarray:
    """Five espeak voices talking over each other, as from across a lobby."""
    lines = ["The bus to the airport leaves every twenty minutes", "Did you see the match last night",
             "I will meet you at the cafe after work", "They are closing the road for repairs",
             "My sister moved to another city last year"]
    voices = [np.resize(espeak(s).astype(np.float64), n) for s in lines]
    return sum(np.roll(v, RNG.integers(n)) for v in voices) / len(voices)


N = SECONDS * SAMPLE_RATE
NOISES = {
    "silence": lambda: np.zeros(N, np.int16),
    "white noise -30 dBFS": lambda: scale(RNG.standard_normal(N), -30),
    "pink noise -25 dBFS": lambda: scale(pink(N), -25),
    "mains hum + DC offset": lambda: (scale(np.sin(2 * np.pi * 50 * np.arange(N) / SAMPLE_RATE), -30) + 6000).astype(np.int16),
    "clipped loud noise": lambda: scale(RNG.standard_normal(N), -3),
    "music -25 dBFS": lambda: scale(music(N), -25),
    "distant babble -55 dBFS": lambda: scale(babble(N), -55),
}


@pytest.mark.parametrize("name", list(NOISES))
def test_noise_opens_no_turn(name: str) -> None:
    found = utterances(NOISES[name]())
    print(f"{name}: {len(found)} false triggers in {SECONDS} s = {len(found) * 3600 / SECONDS:.0f} per hour")
    assert found == []


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
        speech = np.concatenate([silence(1.0), espeak(q), silence(1.0)]).astype(np.float64)
        n = len(speech)
        bed = RNG.standard_normal(n) if noise == "white" else pink(n)
        speech_rms = np.sqrt(np.mean(speech[speech != 0] ** 2))
        bed = bed / np.sqrt(np.mean(bed**2)) * speech_rms / 10 ** (10 / 20)
        found = utterances((speech + bed).clip(-32768, 32767).astype(np.int16))
        missed += len(found) != 1
    print(f"{noise} noise at 10 dB SNR: missed {missed} of {len(questions)} questions")
    assert missed <= 1
