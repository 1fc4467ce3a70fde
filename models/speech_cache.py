"""Synthesised sentences kept on disk, keyed by voice and text, so FAQ answers start at once after every
boot and every restart of the voice worker instead of being synthesised again (~4 s for a site's FAQ).

One small .npz per sentence (PCM + phoneme timing) under the cache folder; a different voice file,
voice setting or text is simply a different key. Unreadable entries are ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from models.tts_piper import Speech


def default_dir() -> Path:
    """$KIOSKD_CACHE_DIR, else /var/cache/kioskd for root, else $XDG_CACHE_HOME/kioskd (~/.cache/kioskd)."""
    env = os.environ.get("KIOSKD_CACHE_DIR")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/cache/kioskd")
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kioskd"


class SpeechCache:
    def __init__(self, folder: Path, voice: Path, settings: str) -> None:
        stat = voice.stat()
        self._voice_key = f"{voice.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{settings}"
        self.folder = folder / "speech"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, text: str) -> Path:
        return self.folder / (hashlib.sha256(f"{self._voice_key}|{text}".encode()).hexdigest()[:32] + ".npz")

    def get(self, text: str) -> Speech | None:
        path = self._path(text)
        try:
            with np.load(path, allow_pickle=False) as z:
                names = [str(x) for x in z["names"]]
                return Speech(z["pcm"], int(z["rate"]), list(zip(names, z["samples"].tolist(), strict=True)))
        except (OSError, KeyError, ValueError):
            return None

    def put(self, text: str, speech: Speech) -> None:
        path = self._path(text)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, pcm=speech.pcm, rate=speech.rate, names=np.array([p for p, _ in speech.phonemes]),
                 samples=np.array([n for _, n in speech.phonemes], np.int64))
        tmp.replace(path)  # readers never see a half-written entry
