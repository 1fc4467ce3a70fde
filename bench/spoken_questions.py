"""Questions as a visitor would speak them, in voices the kiosk was not tuned on.

`kioskctl bench --questions FILE.yaml` takes written questions (a labelled routing set such as
tests/data/routing_questions_fresh.yaml, or a plain YAML list of strings) and speaks each one into WAV files the
bench plays into the kiosk: English with espeak-ng, cycling through accents, sexes and speeds the bundled samples
do not use; Chinese with the Mandarin test voice of bench/zh_voice.py (a neural voice trained on the Baker corpus,
whose recordings are licensed for non-commercial use only: a test voice, never the kiosk's) in four variants of
speed and pitch range. Not with the kiosk's own Chinese voice, espeak-ng's Mandarin: Whisper does not understand it.
Synthetic speech is no stand-in for people (see bench/README.md): it varies the wording and the voice, not
the prosody.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import yaml

from bench.zh_voice import MandarinTestVoice, Variant
from kiosk.audio_sources import decode_file
from models.language import written_in
from models.vad_silero import SAMPLE_RATE

# (espeak-ng voice, words per minute): none of them is the bundled samples' en-us at 150.
VOICES = [("en-gb-scotland", 160), ("en-gb-x-rp+f3", 145), ("en-029+m3", 150), ("en-us+f2", 170),
          ("en-gb-x-gbclan+m1", 140), ("en-gb-x-gbcwmd+f4", 155)]
ZH_VARIANTS = [Variant(), Variant(0.9, 1.1), Variant(1.1, 0.9), Variant(1.1, 1.1)]


def read_questions(path: Path, kinds: set[str] | None = None, split: str | None = None) -> list[str]:
    """The questions of a labelled set (optionally only some kinds or one half; never follow-ups: they need
    the question before them) or of a plain list."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path}: expected a YAML list of questions")
    if all(isinstance(x, str) for x in data):
        return data
    return [x["q"] for x in data if not x.get("after") and (kinds is None or x.get("kind") in kinds)
            and (split is None or x.get("split") == split)]


def speak_all(questions: list[str], folder: Path) -> list[Path]:
    """One WAV per question (a second of silence before, 1.5 s after), voices taking turns."""
    folder.mkdir(parents=True, exist_ok=True)
    zh: MandarinTestVoice | None = None  # loaded for the first Chinese question: most sets have none
    out = []
    for i, text in enumerate(questions):
        if written_in(text) == "zh":
            zh = zh or MandarinTestVoice()
            pcm = zh.synthesize(text, ZH_VARIANTS[i % len(ZH_VARIANTS)])
        else:
            raw = folder / f"raw-{i:03d}.wav"
            voice, wpm = VOICES[i % len(VOICES)]
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            pcm = decode_file(raw)
            raw.unlink()
        path = folder / f"q{i:03d}.wav"
        write_wav(path, np.concatenate([np.zeros(SAMPLE_RATE, np.int16), pcm, np.zeros(SAMPLE_RATE * 3 // 2, np.int16)]))
        out.append(path)
    return out


def write_wav(path: Path, pcm: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Mono int16 PCM (16 kHz unless said) as a WAV file."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype(np.int16).tobytes())
    return path
