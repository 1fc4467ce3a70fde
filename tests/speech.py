"""Speech recordings for tests: espeak-ng renderings of questions and Debian's recorded human speech.

`python -m tests.speech` regenerates the bundled sample question in configs/samples/.
"""

from __future__ import annotations

import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from daemon.audio_sources import decode_file
from models.vad_silero import SAMPLE_RATE

HUMAN_SPEECH = Path("/usr/share/codec2/raw/speech_orig_16k.wav")  # Harvard sentences, male voice
SAMPLE_QUESTION = "What are your opening hours?"
SAMPLE_WAV = Path(__file__).resolve().parent.parent / "configs" / "samples" / "opening-hours.wav"


def espeak(text: str) -> np.ndarray:
    """`text` spoken by espeak-ng (US English), 16 kHz mono int16."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(out), text], check=True)
        return decode_file(out)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.int16)


def write_wav(path: Path, pcm: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.astype(np.int16).tobytes())
    return path


if __name__ == "__main__":
    write_wav(SAMPLE_WAV, np.concatenate([silence(1.0), espeak(SAMPLE_QUESTION), silence(1.5)]))
    print(f"wrote {SAMPLE_WAV}")
