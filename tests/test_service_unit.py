"""The systemd files as systemd itself reads them: both units (the service on an existing display, and the
boot-to-kiosk console session) verify and stay hardened (`systemd-analyze security --offline`), and
sysusers creates the kiosk's user in the device groups."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = ("kioskd.service", "kioskd-console.service")
SYSUSERS = ROOT / "systemd" / "kioskd.sysusers.conf"
MAX_EXPOSURE = 2.0


@pytest.fixture(params=UNITS)
def unit_here(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The unit with its paths pointed at this checkout: verify checks that the programs exist."""
    text = (ROOT / "systemd" / request.param).read_text()
    text = text.replace("WorkingDirectory=/opt/kioskd", f"WorkingDirectory={ROOT}")
    text = text.replace("/opt/kioskd/.venv/bin", str(Path(sys.executable).parent))
    unit = tmp_path / request.param
    unit.write_text(text)
    return unit


def test_the_unit_verifies_without_a_warning(unit_here: Path) -> None:
    out = subprocess.run(["systemd-analyze", "verify", str(unit_here)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not (out.stdout + out.stderr).strip(), out.stdout + out.stderr


def test_a_misspelt_directive_is_caught(unit_here: Path) -> None:
    unit_here.write_text(unit_here.read_text().replace("ProtectClock=", "ProtectClok="))
    out = subprocess.run(["systemd-analyze", "verify", str(unit_here)], capture_output=True, text=True, timeout=60)
    assert "Unknown key 'ProtectClok'" in out.stderr


def exposure(unit: Path) -> float:
    out = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
                         capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out.stdout)
    assert found, out.stdout + out.stderr
    return float(found.group(1))


def test_the_service_is_hardened(unit_here: Path, tmp_path: Path) -> None:
    assert exposure(unit_here) <= MAX_EXPOSURE
    # The figure is the unit's, not the tool's: the same service run as root, unconfined, is unsafe.
    bare = tmp_path / "bare.service"
    bare.write_text("[Service]\nType=notify\nExecStart=/bin/true\n")
    assert exposure(bare) > 9


def read_colon_file(path: Path) -> list[list[str]]:
    return [line.split(":") for line in path.read_text().splitlines()]


def test_sysusers_makes_the_kiosk_user_in_the_device_groups(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    out = subprocess.run(["systemd-sysusers", f"--root={tmp_path}", str(SYSUSERS)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    users = {f[0]: f for f in read_colon_file(tmp_path / "etc" / "passwd")}
    assert users["kioskd"][5:] == ["/var/lib/kioskd", "/usr/sbin/nologin"]
    assert 0 < int(users["kioskd"][2]) < 1000  # a system user
    members = {f[0]: f[3].split(",") for f in read_colon_file(tmp_path / "etc" / "group")}
    for group in ("audio", "video", "render"):
        assert "kioskd" in members[group]


def test_the_watchdog_is_fed_by_the_watched_process_or_its_child() -> None:
    """In the console unit systemd watches cage, its main process, and kioskd (cage's child) feeds it."""
    code = "from daemon.notify import watchdog_interval; print(watchdog_interval())"

    def interval(watched: int) -> str:
        env = {**os.environ, "WATCHDOG_USEC": "15000000", "WATCHDOG_PID": str(watched)}
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT,
                              timeout=60).stdout.strip()

    assert interval(os.getpid()) == "7.5"  # this test is the child's parent, as cage is kioskd's
    assert interval(os.getppid()) == "None"  # a grandparent's watchdog is not the child's to feed
