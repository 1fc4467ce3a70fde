"""Synthesised sentences kept on disk, keyed by voice and text, so FAQ answers start at once after every
boot and every restart of the voice worker instead of being synthesised again (seconds for a site's FAQ).

One small .npz per sentence (PCM + phoneme timing) in the `speech` kind of the disk cache; a different
voice file, voice setting or text is simply a different key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.disk_cache import DiskCache, file_key
from models.tts import Speech


class SpeechCache:
    def __init__(self, voice: Path, settings: str, folder: Path) -> None:
        self._voice_key = f"{file_key(voice)}|{settings}"
        self._cache = DiskCache("speech", folder)

    def get(self, text: str) -> Speech | None:
        entry = self._cache.get(f"{self._voice_key}|{text}")
        if entry is None:
            return None
        try:
            names = [str(x) for x in entry["names"]]
            return Speech(entry["pcm"], int(entry["rate"]), list(zip(names, entry["samples"].tolist(), strict=True)))
        except (KeyError, ValueError):  # an entry from an older layout
            return None

    def put(self, text: str, speech: Speech) -> None:
        self._cache.put(f"{self._voice_key}|{text}", {
            "pcm": speech.pcm, "rate": np.array(speech.rate),
            "names": np.array([p for p, _ in speech.phonemes]),
            "samples": np.array([n for _, n in speech.phonemes], np.int64)})
