"""CTranslate2 Whisper models already on this machine beyond the embedded tiny.en, and the one a GPU runs instead.

On a GPU, Whisper small decodes a kiosk question in well under the time tiny.en takes on two CPU cores, and
hears accents and noise much better: when the ASR runs on CUDA with the embedded default configured, the
best installed of small.en, small, base.en and base replaces it (medium and large are left to an operator
who sets asr.model: their decode time on a small GPU can exceed the reply budget). Nothing is downloaded:
this only looks where faster-whisper's own downloads are kept (the Hugging Face hub cache of the user
kioskd runs as, `models--ORG--faster-whisper-NAME`), for a folder holding a converted model.
"""

from __future__ import annotations

import os
from pathlib import Path

_PREFERRED = ("small.en", "small", "base.en", "base")  # best first, within the reply budget on a GPU


def hub_cache() -> Path:
    """Where the Hugging Face hub keeps its downloads ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    return Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"


def bigger_whispers(cache: Path | None = None) -> list[Path]:
    """Model folders of installed faster-whisper models other than the tiny ones, in name order."""
    found = []
    for repo in sorted((cache or hub_cache()).glob("models--*--faster-whisper-*")):
        if "tiny" in repo.name.rsplit("faster-whisper-", 1)[1]:
            continue
        found += [snap for snap in sorted(repo.glob("snapshots/*")) if _complete(snap)]
    return found


def _complete(folder: Path) -> bool:
    """A converted model faster-whisper can load: weights, config and tokenizer (not a download cut short),
    and readable by this user (a cache under another user's home raises PermissionError, not False)."""
    try:
        return all((folder / name).is_file() for name in ("model.bin", "config.json", "tokenizer.json"))
    except OSError:
        return False


def upgrade(setting: str, default: str, backend: str | None, cache: Path | None = None) -> tuple[Path | None, str]:
    """The installed Whisper that replaces the embedded default `setting` on `backend`, or None; and why."""
    if setting != default:
        return None, f"asr.model is {setting}, not the embedded default {default}"
    if backend != "cuda":
        return None, (f"the asr runs on {backend or 'nothing usable'}: a bigger Whisper than tiny.en is too slow there "
                      "(it pays on a GPU only)")
    found = bigger_whispers(cache)
    for size in _PREFERRED:
        for folder in found:
            if folder.parent.parent.name.rsplit("faster-whisper-", 1)[1] == size:
                return folder, f"the asr runs on CUDA: the installed Whisper {size} replaces tiny.en"
    looked = f"looked in {cache or hub_cache()}"
    if found:
        return None, (f"the asr runs on CUDA, but the installed Whisper models ({', '.join(f.parent.parent.name for f in found)})"
                      f" are none of {', '.join(_PREFERRED)}: set asr.model to one to use it ({looked})")
    return None, (f"the asr runs on CUDA, but no bigger CTranslate2 Whisper is installed ({looked}; nothing is "
                  "downloaded: install one and set asr.model to its folder)")
