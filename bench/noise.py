"""Lobby sounds for listening tests and benchmarks: noise colours, hum, music, babble, and speech mixed
at a chosen signal-to-noise ratio. All 16 kHz mono."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models.vad_silero import SAMPLE_RATE


def scale(x: np.ndarray, dbfs: float) -> np.ndarray:
    """`x` at an RMS level of `dbfs`, as int16 (clipped where that overflows)."""
    rms = np.sqrt(np.mean(x.astype(np.float64) ** 2))
    return (x / rms * 32768 * 10 ** (dbfs / 20)).clip(-32768, 32767).astype(np.int16)


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    x = np.fft.irfft(spectrum, n)
    return x / np.abs(x).max()


def music(n: int, rng: np.random.Generator) -> np.ndarray:
    """Chords changing twice a second with a percussive click on each beat."""
    t = np.arange(n) / SAMPLE_RATE
    chords = [(220, 277, 330), (196, 247, 294), (175, 220, 262), (247, 311, 370)]
    x = np.zeros(n)
    for k, start in enumerate(range(0, n, SAMPLE_RATE // 2)):
        seg = slice(start, start + SAMPLE_RATE // 2)
        for f in chords[k % 4]:
            x[seg] += np.sin(2 * np.pi * f * t[seg])
        x[start : start + 400] += rng.standard_normal(min(400, n - start)) * 2
    return x / np.abs(x).max()


def babble(n: int, rng: np.random.Generator, speak: Callable[[str], np.ndarray]) -> np.ndarray:
    """Five voices talking over each other, as from across a lobby; `speak` renders a sentence."""
    lines = ["The bus to the airport leaves every twenty minutes", "Did you see the match last night",
             "I will meet you at the cafe after work", "They are closing the road for repairs",
             "My sister moved to another city last year"]
    voices = [np.resize(speak(s).astype(np.float64), n) for s in lines]
    return sum(np.roll(v, rng.integers(n)) for v in voices) / len(voices)


def lobby(n: int, rng: np.random.Generator, speak: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    """Every kind of sound that must not open a turn, `n` samples each."""
    return {
        "silence": np.zeros(n, np.int16),
        "white noise -30 dBFS": scale(rng.standard_normal(n), -30),
        "pink noise -25 dBFS": scale(pink(n, rng), -25),
        "mains hum + DC offset": (scale(np.sin(2 * np.pi * 50 * np.arange(n) / SAMPLE_RATE), -30) + 6000)
        .astype(np.int16),
        "clipped loud noise": scale(rng.standard_normal(n), -3),
        "music -25 dBFS": scale(music(n, rng), -25),
        "distant babble -55 dBFS": scale(babble(n, rng, speak), -55),
    }


def at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Speech plus noise scaled so that the speech (where it is not silent) is `snr_db` above it."""
    s = speech.astype(np.float64)
    level = np.sqrt(np.mean(s[s != 0] ** 2))
    bed = noise / np.sqrt(np.mean(noise.astype(np.float64) ** 2)) * level / 10 ** (snr_db / 20)
    return (s + bed).clip(-32768, 32767).astype(np.int16)
