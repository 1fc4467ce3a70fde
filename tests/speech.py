"""Speech recordings for tests: espeak-ng renderings of questions and Debian's recorded human speech.

`python -m tests.speech` regenerates the bundled sample questions in configs/samples/ (espeak-ng 1.51):
four FAQ paraphrases and one question the FAQ does not cover.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from bench.spoken_questions import write_wav
from kiosk.audio_sources import decode_file
from models.vad_silero import SAMPLE_RATE

HUMAN_SPEECH = Path("/usr/share/codec2/raw/speech_orig_16k.wav")  # Harvard sentences, male voice
SAMPLES = Path(__file__).resolve().parent.parent / "configs" / "samples"
SAMPLE_WAV = SAMPLES / "opening-hours.wav"
SAMPLE_QUESTIONS = {
    "opening-hours": "What are your opening hours?",
    "closing-time": "What time do you close today?",
    "restroom": "Excuse me, where is the restroom?",
    "stolen-card": "Someone stole my card.",
    "restaurant": "Can you recommend a good restaurant?",
}


def espeak(text: str) -> np.ndarray:
    """`text` spoken by espeak-ng (US English), 16 kHz mono int16."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(out), text], check=True)
        return decode_file(out)


def spoken_part(pcm: np.ndarray) -> np.ndarray:
    """From 50 ms before the first loud 10 ms to 50 ms after the last: the speech without the silence a
    recording (or espeak-ng) puts around it, so that a pause put between two is as long as it says."""
    frames = pcm[: len(pcm) // 160 * 160].reshape(-1, 160).astype(np.float64)
    loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 100)
    return pcm[max(0, loud[0] - 5) * 160 : (loud[-1] + 6) * 160]


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.int16)


if __name__ == "__main__":
    for name, text in SAMPLE_QUESTIONS.items():
        path = write_wav(SAMPLES / f"{name}.wav", np.concatenate([silence(1.0), espeak(text), silence(1.5)]))
        print(f"wrote {path}: {text}")
