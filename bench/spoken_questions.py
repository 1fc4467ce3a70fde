"""Questions as a visitor would speak them, in voices the kiosk was not tuned on.

`kioskctl bench --questions FILE.yaml` takes written questions (a labelled routing set such as
tests/data/routing_questions_fresh.yaml, or a plain YAML list of strings) and speaks each one with
espeak-ng, cycling through accents, sexes and speeds the bundled samples do not use, into WAV files the
bench plays into the kiosk. A question written in Chinese is spoken by espeak-ng 1.52's Mandarin (the
Debian espeak-ng 1.51 garbles it), in variants and at speeds the kiosk's own Chinese voice does not use.
Synthetic speech is no stand-in for people (see bench/README.md): it varies the wording and the voice, not
the prosody.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import yaml

from kiosk.audio_sources import decode_file
from models.language import written_in
from models.registry import resolve
from models.tts_espeak import EspeakTts
from models.vad_silero import SAMPLE_RATE
from models.voices import ESPEAK_CMN

# (espeak-ng voice, words per minute): none of them is the bundled samples' en-us at 150.
VOICES = [("en-gb-scotland", 160), ("en-gb-x-rp+f3", 145), ("en-029+m3", 150), ("en-us+f2", 170),
          ("en-gb-x-gbclan+m1", 140), ("en-gb-x-gbcwmd+f4", 155)]
# (espeak-ng Mandarin variant, length scale): the kiosk speaks plain cmn at length scale 1.
ZH_VOICES = [("cmn+f3", 1.1), ("cmn+m3", 0.95), ("cmn+f2", 1.2), ("cmn+m1", 1.05)]


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
    out = []
    for i, text in enumerate(questions):
        raw = folder / f"raw-{i:03d}.wav"
        if written_in(text) == "zh":
            variant, length_scale = ZH_VOICES[i % len(ZH_VOICES)]
            speech = EspeakTts(resolve(ESPEAK_CMN, "bench"), variant, length_scale).synthesize(text)
            write_wav(raw, speech.pcm, speech.rate)
        else:
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
