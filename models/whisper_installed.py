"""CTranslate2 Whisper models already on this machine beyond the embedded ones, and the one a GPU runs instead.

On a GPU, Whisper small decodes a kiosk question in well under the time tiny.en takes on two CPU cores, and
hears accents and noise much better: when the ASR runs on CUDA with the embedded default configured, the
best installed of small.en, small, base.en and base replaces it (medium and large are left to an operator
who sets asr.model: their decode time on a small GPU can exceed the reply budget). With visitors who may
speak Chinese (asr.language zh or auto) the embedded whisper-base is in use, and only the multilingual small
or base may replace it: an English-only model cannot hear Chinese. Nothing is downloaded:
this only looks where faster-whisper's own downloads are kept (the Hugging Face hub cache of the user
kioskd runs as, `models--ORG--faster-whisper-NAME`), for a folder holding a converted model.
"""

from __future__ import annotations

import os
from pathlib import Path

from models.registry import EMBEDDED_PREFIX

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


def upgrade(setting: str, default: str, used: str, backend: str | None, cache: Path | None = None
            ) -> tuple[Path | None, str]:
    """The installed Whisper that replaces the embedded model `used` for the default `setting` on `backend`, or
    None; and why. `used` is the default itself (tiny.en, English only) or the multilingual one it is swapped
    for, which only a multilingual model may replace."""
    english = used == default
    replaced = used.removeprefix(EMBEDDED_PREFIX)
    preferred = _PREFERRED if english else tuple(size for size in _PREFERRED if not size.endswith(".en"))
    if setting != default:
        return None, f"asr.model is {setting}, not the embedded default {default}"
    if backend != "cuda":
        return None, (f"the asr runs on {backend or 'nothing usable'}: a bigger Whisper than {replaced} is too slow "
                      "there (it pays on a GPU only)")
    found = bigger_whispers(cache)
    for size in preferred:
        for folder in found:
            if folder.parent.parent.name.rsplit("faster-whisper-", 1)[1] == size:
                return folder, f"the asr runs on CUDA: the installed Whisper {size} replaces {replaced}"
    looked = f"looked in {cache or hub_cache()}"
    if found:
        return None, (f"the asr runs on CUDA, but the installed Whisper models ({', '.join(f.parent.parent.name for f in found)})"
                      f" are none of {', '.join(preferred)}: set asr.model to one to use it ({looked})")
    return None, (f"the asr runs on CUDA, but no bigger CTranslate2 Whisper is installed ({looked}; nothing is "
                  "downloaded: install one and set asr.model to its folder)")
