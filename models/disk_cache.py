"""Work derived from model files, kept on disk so boots and worker restarts skip it: synthesised FAQ
openings, FAQ question embeddings, the LLM's evaluated prompt prefix, onnxruntime's optimised graphs.

An entry's name is a hash of everything it depends on (model file identity, settings, library version,
input text), so a changed input is simply a different entry and nothing is ever stale. Entries are
written to a temporary name and renamed, so a reader never sees half of one; an unreadable entry reads
as missing and is rewritten. A cache folder that cannot be written turns caching off with one warning:
the kiosk still runs, it only starts slower. Where the cache folder is, is the daemon's choice
(daemon.paths.cache_dir).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

log = logging.getLogger("kioskd.cache")


def file_key(path: Path) -> str:
    """Identity of a model file: where it is, its size and when it last changed (hashing ~300 MB of
    weights at every start would cost more than the caches save)."""
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def machine_key() -> str:
    """This CPU's model and features: onnxruntime's optimised graphs may use instructions only it has."""
    wanted = ("model name", "flags", "Features", "CPU part")  # x86_64 and aarch64 spellings
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    seen = dict(line.split(":", 1) for line in lines if line.split(":", 1)[0].strip() in wanted)
    return f"{os.uname().machine}|" + "|".join(v.strip() for v in seen.values())


def entry_name(key: str, suffix: str) -> str:
    """The file name of `key`'s entry in its kind's folder."""
    return hashlib.sha256(key.encode()).hexdigest()[:32] + suffix


class DiskCache:
    """One kind of entry (a subfolder) of the cache folder."""

    def __init__(self, kind: str, folder: Path) -> None:
        path = folder / kind
        try:
            path.mkdir(parents=True, exist_ok=True)
            self.folder: Path | None = path
        except OSError as exc:
            log.warning("no %s cache (%s): starting takes longer", kind, exc)
            self.folder = None

    def path(self, key: str, suffix: str) -> Path | None:
        """Where the entry for `key` lives (None when caching is off)."""
        if self.folder is None:
            return None
        return self.folder / entry_name(key, suffix)

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        path = self.path(key, ".npz")
        if path is None:
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                return {name: z[name] for name in z.files}
        except (OSError, ValueError, EOFError):  # missing, truncated or not an npz at all
            return None

    def put(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        path = self.path(key, ".npz")
        if path is None:
            return
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        try:
            np.savez(tmp, **arrays)
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.warning("cannot write the cache entry %s: %s", path, exc)
