"""Configuration releases on the kiosk, the other end of `kioskctl push`:

    <root>/releases/<id>/kioskd.yaml, faq-<sha>.yaml, persona-<sha>.txt, portrait-<sha>.<ext>, MANIFEST.json
    <root>/current -> releases/<id>          (kioskd's site file is <root>/current/kioskd.yaml)

The config names its files through `current` and by their content (brain.faq:
<root>/current/faq-3f2a9c1b7d4e.yaml): a push that leaves the FAQ alone leaves brain.faq alone, so a
reload restarts only the workers whose settings changed (a new portrait restarts the face, not the
brain and its LLM).

A release is filled (received from the push, files carried over from the current one), then sealed: its
config and every file it names are validated, and MANIFEST.json (each file's sha256) is written last.
Only a sealed release can become current, by renaming a new symlink over `current` (atomic), so a push
killed at any point leaves the kiosk on a complete release. Pruning removes unsealed leftovers and the
oldest sealed releases."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
from pathlib import Path
from typing import IO, Any

import yaml

from daemon import config as config_mod
from daemon.site_check import check_site

MANIFEST = "MANIFEST.json"
GATED = "GATED"  # written into a release once it has passed its health gate on this kiosk
CONFIG = "kioskd.yaml"
# The files a release may hold: the config, and what its brain.faq, brain.persona and face.portrait name.
ROLE_KEYS = {"faq": ("brain", "faq"), "persona": ("brain", "persona"), "portrait": ("face", "portrait")}
FILE_NAME = re.compile(r"kioskd\.yaml|faq-[0-9a-f]{12}\.yaml|persona-[0-9a-f]{12}\.txt"
                       r"|portrait-[0-9a-f]{12}\.(jpe?g|png|webp|bmp)")
RELEASE_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4,16}")
KEEP = 5
MAX_UPLOAD = 64 * 1024 * 1024  # a config, an FAQ, a persona and a portrait: far less


class ReleaseError(RuntimeError):
    """A release operation that cannot be done; the message says why, and nothing was changed."""


def sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def file_name(role: str, path: Path) -> str:
    """What `path` is called in a release as the file of `role` (faq, persona, portrait): by its content.
    ReleaseError for a portrait of a kind the kiosk does not take."""
    suffix = {"faq": ".yaml", "persona": ".txt"}.get(role, path.suffix.lower())
    name = f"{role}-{sha256(path)[:12]}{suffix}"
    if not FILE_NAME.fullmatch(name):
        raise ReleaseError(f"{path}: a kiosk takes .jpg, .jpeg, .png, .webp or .bmp portraits")
    return name


class Releases:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "releases"
        self.current_link = root / "current"

    def _release(self, rid: str) -> Path:
        if not RELEASE_ID.fullmatch(rid):
            raise ReleaseError(f"{rid!r} is not a release id (like 20261203T091500Z-3fa2)")
        return self.dir / rid

    def _ids(self) -> list[str]:
        """Every release here, sealed or not, newest first."""
        return sorted((p.name for p in self.dir.iterdir() if RELEASE_ID.fullmatch(p.name)), reverse=True)

    def sealed(self, rid: str) -> bool:
        return (self._release(rid) / MANIFEST).is_file()

    def _open(self, rid: str) -> Path:
        """A release still being filled: once sealed, nothing in it changes."""
        if self.sealed(rid):
            raise ReleaseError(f"release {rid} is sealed: it cannot change")
        return self._release(rid)

    def current(self) -> str | None:
        try:
            return Path(os.readlink(self.current_link)).name
        except OSError:
            return None

    def show(self) -> dict[str, Any]:
        """The current release: its id, its files' sha256 and its config's text (for a push to start from)."""
        rid = self.current()
        if rid is None or not self.sealed(rid):
            return {"root": str(self.root), "current": None, "files": {}, "config": None}
        files: dict[str, str] = json.loads((self._release(rid) / MANIFEST).read_text())["files"]
        config = (self._release(rid) / CONFIG).read_text(encoding="utf-8") if CONFIG in files else None
        return {"root": str(self.root), "current": rid, "files": files, "config": config}

    def receive(self, rid: str, tar: IO[bytes]) -> list[str]:
        """Unpack an uploaded tar stream (plain files with release names only) into a new release."""
        path = self._release(rid)
        if path.exists():
            raise ReleaseError(f"release {rid} already exists")
        self.dir.mkdir(parents=True, exist_ok=True)
        path.mkdir()
        names: list[str] = []
        size = 0
        try:
            with tarfile.open(fileobj=tar, mode="r|") as archive:
                for member in archive:
                    size += member.size
                    if not member.isfile() or not FILE_NAME.fullmatch(member.name):
                        raise ReleaseError(f"release {rid}: {member.name!r} is not a file a release may hold")
                    if size > MAX_UPLOAD:
                        raise ReleaseError(f"release {rid}: the upload is over {MAX_UPLOAD // 2**20} MiB")
                    archive.extract(member, path, filter="data")
                    names.append(member.name)
        except (tarfile.TarError, ReleaseError) as exc:
            shutil.rmtree(path, ignore_errors=True)
            raise ReleaseError(f"release {rid}: upload incomplete or damaged ({exc})") from None
        return names

    def carry(self, rid: str, names: list[str]) -> None:
        """Files of the current release that this one keeps unchanged (hard links where possible)."""
        current = self.current()
        if current is None:
            raise ReleaseError("there is no current release to carry files over from")
        path = self._open(rid)
        for name in names:
            if not FILE_NAME.fullmatch(name):
                raise ReleaseError(f"{name!r} is not a file a release may hold")
            src, dst = self._release(current) / name, path / name
            if dst.exists():
                raise ReleaseError(f"release {rid} already has its own {name}")
            try:
                os.link(src, dst)
            except OSError:  # another file system, or links not allowed: a copy keeps the same bytes
                shutil.copy2(src, dst)

    def seal(self, rid: str) -> list[str]:
        """Validate the release as the kiosk would load it, then write its manifest. Notes (warnings) are
        returned; a release that fails is removed (config_mod.ConfigError names what is wrong)."""
        path = self._open(rid)
        if not (path / CONFIG).is_file():
            raise ReleaseError(f"release {rid} has no {CONFIG}")
        try:
            notes = check_site(config_mod.load(site=path / CONFIG, overrides=self._here(path)))
        except config_mod.ConfigError:
            shutil.rmtree(path, ignore_errors=True)
            raise
        files = {p.name: sha256(p) for p in sorted(path.iterdir()) if p.name != MANIFEST}
        for name in files:  # on disk before the manifest that vouches for them
            _fsync(path / name)
        _write_atomic(path / MANIFEST, json.dumps({"id": rid, "files": files}, indent=1) + "\n")
        return notes

    def _here(self, path: Path) -> list[str]:
        """Overrides that point the config's `current/` paths into the release at `path`: it is validated
        before it becomes current."""
        try:
            data = yaml.safe_load((path / CONFIG).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            return []  # config_mod.load says what is wrong with it
        prefix, others = f"{self.current_link}/", f"{self.dir}/"
        out = []
        for section, key in ROLE_KEYS.values():
            value = (data.get(section) or {}).get(key) if isinstance(data, dict) else None
            if not isinstance(value, str):
                continue
            value = os.path.normpath(value)
            if value.startswith(prefix):
                out.append(f"{section}.{key}={json.dumps(str(path / value[len(prefix):]))}")
            elif value.startswith(others):
                raise config_mod.ConfigError(f"{section}.{key}: {value} is inside another release, which a prune "
                                             f"will delete: name it through {prefix}")
        return out

    def gated(self, rid: str) -> bool:
        return (self._release(rid) / GATED).is_file()

    def mark_gated(self, rid: str) -> None:
        _write_atomic(self._release(rid) / GATED, "passed its health gate\n")

    def fallback(self, failed: str, previous: str | None) -> str | None:
        """Where a release that failed its gate goes back to: the one before it if that had passed its own
        gate, else the newest that has; None: no release has (back to the site file written by hand)."""
        if previous is not None and previous != failed and self.gated(previous):
            return previous
        return next((r for r in self._ids() if r != failed and self.sealed(r) and self.gated(r)), None)

    def unset(self) -> None:
        """No current release: kioskd reads the site file written by hand (or its packaged default)."""
        self.current_link.unlink(missing_ok=True)
        _fsync(self.root)

    def switch(self, rid: str) -> str | None:
        """Make a sealed release current in one rename; returns the one it replaced."""
        if not self.sealed(rid):
            raise ReleaseError(f"release {rid} is not sealed (incomplete or never validated): not switching")
        previous = self.current()
        tmp = self.root / f".current.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("releases") / rid)
        os.replace(tmp, self.current_link)
        _fsync(self.root)
        return previous

    def prune(self, keep: int = KEEP) -> list[str]:
        """Remove unsealed releases (a push killed midway) and all but the newest `keep` sealed ones; the
        current release and the newest that passed its gate always stay."""
        if not self.dir.is_dir():
            return []
        current = self.current()
        ids = self._ids()
        sealed = [r for r in ids if self.sealed(r)]
        last_good = next((r for r in sealed if self.gated(r)), None)  # where a failed push goes back to
        doomed = [r for r in ids if r not in (current, last_good) and (r not in sealed or r not in sealed[:keep])]
        for rid in doomed:
            shutil.rmtree(self.dir / rid, ignore_errors=True)
        return doomed


def release_of(site: Path | None) -> str | None:
    """The release a resolved site file belongs to (<root>/releases/ID/kioskd.yaml), or None."""
    if site is None:
        return None
    return site.parent.name if site.parent.parent.name == "releases" else None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
