"""CTranslate2 Whisper models already on this machine beyond the embedded tiny.en: what a GPU could run instead.

Nothing is downloaded: this only looks where faster-whisper's own downloads are kept (the Hugging Face hub
cache, `models--ORG--faster-whisper-NAME`), for a folder holding a converted model.
"""

from __future__ import annotations

import os
from pathlib import Path


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
        found += [snap for snap in sorted(repo.glob("snapshots/*")) if (snap / "model.bin").is_file()]
    return found
