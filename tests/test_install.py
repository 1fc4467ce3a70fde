"""`kioskctl install` / `uninstall` into a temporary tree: the files, modes and owners written, the session
enabled the way systemctl does it, idempotence, the operator's site config kept, and a first boot that
finds every start-up cache already built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.config import load
from daemon.install import user_ids
from daemon.stage import LocalPort

ROOT = Path(__file__).resolve().parent.parent
UNITS = Path("etc/systemd/system")


def kioskctl(*args: str, user: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(user or []), sys.executable, "-m", "daemon.cli_kioskctl", *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)


def tree(root: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every path under root: mode, owner, group, and a symlink's target."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(root))] = (st.st_mode & 0o7777, st.st_uid, st.st_gid,
                                            os.readlink(path) if path.is_symlink() else "")
    return out


def entries(cache: Path) -> dict[str, tuple[int, int, int]]:
    """Every cache file with its inode, size and time: rewritten in place or replaced, it reads differently."""
    return {str(p.relative_to(cache)): (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns)
            for p in cache.rglob("*") if p.is_file()}


def test_install_writes_the_appliance_and_uninstall_takes_it_away(tmp_path: Path) -> None:
    done = kioskctl("install", "--root", str(tmp_path), "--no-warm")
    assert done.returncode == 0, done.stderr
    uid, gid = user_ids(tmp_path)
    assert 0 < uid < 1000
    files = tree(tmp_path)
    me = os.geteuid()
    owner = (uid, gid) if me == 0 else (me, os.getegid())
    assert files["usr/lib/sysusers.d/kioskd.conf"][:3] == (0o644, me, os.getegid())
    assert files["etc/kioskd/kioskd.yaml"][0] == 0o640
    if me == 0:
        assert files["etc/kioskd/kioskd.yaml"][1:3] == (0, gid)  # the kiosk reads it, only root writes it
    for folder in ("var/lib/kioskd", "var/cache/kioskd"):
        assert files[folder][:3] == (0o750, *owner)
    assert files["etc/systemd/system/multi-user.target.wants/kioskd-console.service"][3] == \
        "/etc/systemd/system/kioskd-console.service"
    console = (tmp_path / UNITS / "kioskd-console.service").read_text()
    assert f"/usr/bin/cage -- {sys.prefix}/bin/kioskd --display fullscreen" in console
    assert f"WorkingDirectory={Path(sys.prefix).parent}\n" in console and "/opt/kioskd" not in console
    load(site=tmp_path / "etc/kioskd/kioskd.yaml")  # the starter site config is a valid one

    # Again: nothing rewritten. The operator's own site config is never touched.
    site = tmp_path / "etc/kioskd/kioskd.yaml"
    site.write_text("site: Branch 12\n")
    again = kioskctl("install", "--root", str(tmp_path), "--no-warm")
    assert again.returncode == 0, again.stderr
    assert not [line for line in again.stdout.splitlines() if line.startswith("wrote")], again.stdout
    assert "kept" in again.stdout and site.read_text() == "site: Branch 12\n"
    assert {k: v for k, v in tree(tmp_path).items() if not k.startswith("etc/kioskd")} == \
        {k: v for k, v in files.items() if not k.startswith("etc/kioskd")}

    # The other session: the console one is disabled, since the two conflict.
    other = kioskctl("install", "--root", str(tmp_path), "--no-warm", "--session", "display")
    assert other.returncode == 0, other.stderr
    wants = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / UNITS).glob("*.wants/*"))
    assert wants == ["etc/systemd/system/graphical.target.wants/kioskd.service"]

    gone = kioskctl("uninstall", "--root", str(tmp_path))
    assert gone.returncode == 0, gone.stderr
    assert not list((tmp_path / UNITS).rglob("*.service")) and not (tmp_path / "usr/lib/sysusers.d/kioskd.conf").exists()
    assert site.read_text() == "site: Branch 12\n" and (tmp_path / "var/lib/kioskd").is_dir()
    purged = kioskctl("uninstall", "--root", str(tmp_path), "--purge")
    assert purged.returncode == 0, purged.stderr
    assert not any((tmp_path / p).exists() for p in ("etc/kioskd", "var/lib/kioskd", "var/cache/kioskd"))


def test_a_checkout_the_service_cannot_see_is_refused(tmp_path: Path) -> None:
    from daemon.install import InstallError, Target, install

    for app in (Path("/root/kioskd"), Path("/home/someone/kioskd")):
        with pytest.raises(InstallError, match=r"move the checkout to /opt/kioskd.*nothing was changed"):
            install(Target(tmp_path, app), "console", print, None)
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(os.geteuid() != 0, reason="shows what an ordinary user is told; needs root to become one")
def test_an_ordinary_user_cannot_install_onto_the_machine() -> None:
    done = kioskctl("install", "--no-warm", user=["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"])
    assert done.returncode == 1
    assert "run it as root (sudo), or give --root DIR" in done.stderr and "nothing was changed" in done.stderr
    assert not Path("/usr/lib/sysusers.d/kioskd.conf").exists()


@pytest.mark.timeout(600)
def test_the_first_boot_finds_every_start_up_cache_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from daemon.workers.brain import Brain
    from daemon.workers.voice import Voice

    done = kioskctl("install", "--root", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    cache = tmp_path / "var/cache/kioskd"
    built = entries(cache)
    assert {Path(p).parent.name for p in built} == {"verified", "embeddings", "llm", "onnx", "speech"}
    if os.geteuid() == 0:
        uid, gid = user_ids(tmp_path)
        assert {(p.stat().st_uid, p.stat().st_gid) for p in cache.rglob("*")} == {(uid, gid)}

    # The workers' own start-up, on that cache: everything they look for is there, so they write nothing.
    monkeypatch.setenv("KIOSKD_CACHE_DIR", str(cache))
    config = load(site=tmp_path / "etc/kioskd/kioskd.yaml")
    brain = Brain(config, LocalPort())
    brain.setup()
    assert brain.llm.result(timeout=300) is not None
    Voice(config, LocalPort()).setup()
    assert entries(cache) == built
