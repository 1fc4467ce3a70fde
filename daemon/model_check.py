"""The embedded model files a config will use, checked against models/MANIFEST.md before the kiosk starts
(a damaged or replaced file is refused with its name, not met as a crash in a worker).

    python -m daemon.model_check [--full]    # every embedded file; --full hashes them all again
"""

from __future__ import annotations

import argparse
import sys

from daemon.config import Config
from daemon.paths import cache_dir
from models.manifest import WHERE, check
from models.voices import ESPEAK_CMN

# Files needed only while the config names their model; the others (VAD, retrieval, face) always are.
_CHOSEN_BY = {
    "model.bin": lambda c: c.asr.model_used() == "embedded:tiny.en",
    "whisper-base/model.bin": lambda c: c.asr.model_used() == "embedded:whisper-base",
    "smart-turn-v3.2-cpu.onnx": lambda c: c.vad.turn_model == "embedded:smart-turn-v3.2",
    "gemma-3-270m-q4_k_m.gguf": lambda c: c.brain.llm.model == "embedded:gemma3-270m",
    "en_US-joe-medium.onnx": lambda c: c.voice.model == "embedded:en_US-joe-medium",
    "en_US-joe-medium.aligned.onnx": lambda c: c.voice.model == "embedded:en_US-joe-medium",
    "cmn_dict": lambda c: c.voice.chinese == ESPEAK_CMN,
}


def in_use(cfg: Config) -> list[str]:
    return [name for name in WHERE if name not in _CHOSEN_BY or _CHOSEN_BY[name](cfg)]


def problems(cfg: Config) -> list[str]:
    return check(in_use(cfg), cache_dir())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", action="store_true", help="hash every file, even those found intact before")
    args = p.parse_args(argv)
    found = check(WHERE, cache_dir(), args.full)
    for line in found:
        print(f"models: {line}", file=sys.stderr)
    print(f"models: {len(WHERE) - len(found)} of {len(WHERE)} embedded files match models/MANIFEST.md")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
