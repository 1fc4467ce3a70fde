"""The installed embedded models are exactly the files models/MANIFEST.md lists (size and sha256), and a
damaged one is found: by the check on its own (stand-in files built here) and by kioskd at start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from daemon.config import load
from daemon.model_check import in_use
from models import prepare
from models.disk_cache import DiskCache
from models.manifest import WHERE, Entry, entries, problem, sha256
from models.prepare import piper_voice_path


def test_manifest_lists_every_embedded_file() -> None:
    assert sorted(e.name for e in entries()) == sorted(WHERE)


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e.name)
def test_installed_file_matches(entry: Entry) -> None:
    assert problem(entry, WHERE[entry.name](), None) is None


def stand_in(tmp_path: Path) -> tuple[Entry, Path, DiskCache]:
    path = tmp_path / "weights.bin"
    path.write_bytes(bytes(range(256)) * 4096)
    return Entry("weights.bin", path.stat().st_size, sha256(path)), path, DiskCache("verified", tmp_path / "cache")


def test_an_intact_file_is_hashed_once_then_known_by_its_size_and_time(tmp_path: Path) -> None:
    entry, path, verified = stand_in(tmp_path)
    assert problem(entry, path, verified) is None
    stamp = os.stat(path)
    with path.open("r+b") as f:  # a flipped byte that leaves size and time as they were
        f.write(b"\xff")
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert problem(entry, path, verified) is None  # the trade for a fast boot
    assert "does not match its sha256" in (problem(entry, path, verified, full=True) or "")


@pytest.mark.parametrize(("damage", "said"), [
    (lambda p: p.write_bytes(p.read_bytes()[:-1]), "has 1048575 bytes, the manifest 1048576"),
    (lambda p: p.write_bytes(b"\x01" + p.read_bytes()[1:]), "does not match its sha256"),
    (lambda p: p.unlink(), "cannot be read"),
])
def test_a_damaged_file_is_named_with_what_is_wrong(tmp_path: Path, damage: Callable[[Path], object],
                                                    said: str) -> None:
    entry, path, verified = stand_in(tmp_path)
    assert problem(entry, path, verified) is None
    checked_ns = path.stat().st_mtime_ns
    damage(path)
    if path.exists():  # damaged later than it was checked (within the same clock tick, its time may not move)
        os.utime(path, ns=(checked_ns + 10**9, checked_ns + 10**9))
    assert said in (problem(entry, path, verified) or "")


def test_kioskd_refuses_to_start_on_a_damaged_voice(tmp_path: Path) -> None:
    """The prepared models from a folder of their own ($KIOSKD_MODEL_DIR): the LLM linked to the real one,
    the voice a copy with one byte changed."""
    models = tmp_path / "models"
    models.mkdir()
    real = piper_voice_path().parent
    (models / "gemma-3-270m-q4_k_m.gguf").symlink_to(real / "gemma-3-270m-q4_k_m.gguf")
    (models / "whisper-base").symlink_to(real / "whisper-base")
    shutil.copyfile(real / "en_US-joe-medium.aligned.onnx.json", models / "en_US-joe-medium.aligned.onnx.json")
    voice = (real / "en_US-joe-medium.aligned.onnx").read_bytes()
    (models / "en_US-joe-medium.aligned.onnx").write_bytes(voice[:1000] + bytes([voice[1000] ^ 1]) + voice[1001:])
    env = {**os.environ, "KIOSKD_MODEL_DIR": str(models), "KIOSKD_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-m", "daemon.cli_kioskd", "--display", "offscreen", "--audio-in", "none",
                          "--runtime-dir", str(tmp_path / "run")], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "embedded model files are damaged" in out.stderr
    assert "en_US-joe-medium.aligned.onnx" in out.stderr and "reinstall it with scripts/setup.sh" in out.stderr
    assert not (tmp_path / "run").exists()  # refused before anything started
    # The check on its own, over every embedded file, finds the same one.
    ok = subprocess.run([sys.executable, "-m", "daemon.model_check"], env=env, capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 1 and "10 of 11" in ok.stdout


def test_the_whisper_a_config_uses_is_the_one_checked() -> None:
    """Chinese visitors: whisper-base is checked at start, and tiny.en, which the ASR no longer loads, is not."""
    assert "model.bin" in in_use(load()) and "whisper-base/model.bin" not in in_use(load())
    for language in ("zh", "auto"):
        used = in_use(load(overrides=[f"asr.language={language}"]))
        assert "whisper-base/model.bin" in used and "model.bin" not in used


def test_whisper_base_is_joined_from_its_two_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSKD_MODEL_DIR", str(tmp_path))
    folder = prepare.prepare_whisper_base()
    assert folder == tmp_path / "whisper-base"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    entry = next(e for e in entries() if e.name == "whisper-base/model.bin")
    assert entry.sha256 == prepare.WHISPER_BASE_SHA256
    assert problem(entry, folder / "model.bin", None) is None
    made = (folder / "model.bin").stat().st_mtime_ns
    assert prepare.prepare_whisper_base() == folder and (folder / "model.bin").stat().st_mtime_ns == made  # skipped


def test_a_joined_whisper_base_that_does_not_match_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSKD_MODEL_DIR", str(tmp_path))
    monkeypatch.setattr(prepare, "WHISPER_BASE_SHA256", "0" * 64)  # as if a part had been replaced
    with pytest.raises(RuntimeError, match=r"whisper-base: the joined model\.bin has sha256 d01c3014"):
        prepare.prepare_whisper_base()
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its partial copy
