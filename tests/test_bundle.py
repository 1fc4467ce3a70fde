"""The offline bundle (scripts/bundle.sh), built from this checkout: its Debian packages install on a bare
system from the bundle alone (apt resolves the whole set with nothing installed and no other source),
and the bundle sets itself up in a fresh virtualenv with the network off and answers the bundled
spoken question (`./kiosk.sh run` on a machine without a screen)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def runtime_packages() -> list[str]:
    out = subprocess.run(["bash", "-c", 'source scripts/apt-packages.sh && echo "${APT_RUNTIME[@]}"'], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


def network_off() -> list[str]:
    """A new network namespace: only a loopback that is down, so nothing can be downloaded."""
    prefix = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--net", "--map-root-user"]
    if subprocess.run([*prefix, "true"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("this machine allows no network namespace to cut the bundle off in")
    return prefix


def apt_can_install_from(debs: Path, work: Path, packages: list[str]) -> subprocess.CompletedProcess[str]:
    """Simulate installing `packages` on a system with nothing installed, from the bundle's folder only."""
    (work / "lists" / "partial").mkdir(parents=True)
    (work / "status").write_text("")
    (work / "bundle.list").write_text(f"deb [trusted=yes] file:{debs} ./\n")
    only_bundle = ["-o", f"Dir::Etc::sourcelist={work / 'bundle.list'}", "-o", "Dir::Etc::sourceparts=-",
                   "-o", f"Dir::State::Lists={work / 'lists'}", "-o", "Dir::Cache::pkgcache=",
                   "-o", "Dir::Cache::srcpkgcache=", "-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1"]
    subprocess.run(["apt-get", "-qq", *only_bundle, "update"], check=True, capture_output=True, timeout=120)
    return subprocess.run(["apt-get", "-s", *only_bundle, "-o", f"Dir::State::status={work / 'status'}", "install",
                           "--no-install-recommends", *packages], capture_output=True, text=True, timeout=120)


@pytest.mark.timeout(1500)
def test_the_bundle_installs_offline_and_answers(tmp_path: Path) -> None:
    if shutil.which("dpkg-scanpackages") is None:
        pytest.skip("dpkg-scanpackages is not installed (Debian package dpkg-dev; scripts/setup.sh installs it)")
    cut_off = network_off()
    out, app = tmp_path / "kioskd-bundle.tar", tmp_path / "kioskd"
    try:
        built = subprocess.run(["scripts/bundle.sh", str(out)], cwd=ROOT, capture_output=True, text=True,
                               timeout=1200)
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        print(built.stdout.splitlines()[-1])
        with tarfile.open(out) as tar:
            tar.extractall(tmp_path, filter="tar")
        assert not (app / ".venv").exists() and any(app.glob("daemon/_ringcore*.so"))

        packages = runtime_packages()
        plan = apt_can_install_from(app / "debs", tmp_path / "apt", packages)
        assert plan.returncode == 0, plan.stdout[-2000:] + plan.stderr[-2000:]
        installed = {line.split()[1] for line in plan.stdout.splitlines() if line.startswith("Inst ")}
        assert set(packages) <= installed

        # Set up and run as a kiosk operator would, with no network at all and no compiler in reach.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSKD_", "PIP_", "VIRTUAL_ENV"))}
        env.update(KIOSKD_CACHE_DIR=str(tmp_path / "cache"), KIOSKD_STATE_DIR=str(tmp_path / "state"),
                   KIOSKD_RUNTIME_DIR=str(tmp_path / "run"), CC="/bin/false", PIP_CONFIG_FILE="/dev/null")
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        t0 = time.monotonic()
        ran = subprocess.run([*cut_off, "./kiosk.sh", "run"], cwd=app, env=env, capture_output=True, text=True,
                             timeout=1200)
        took = time.monotonic() - t0
        assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-4000:]
        print(f"offline set-up and first run: {took:.0f} s")
        assert "replied (faq): We are open" in ran.stdout, ran.stdout[-2000:]  # the bundled question, from the FAQ
        assert (app / "out" / "demo.mp4").stat().st_size > 10_000
    finally:
        shutil.rmtree(app, ignore_errors=True)  # 2.5 GB with its virtualenv: pytest keeps its last runs' folders
        out.unlink(missing_ok=True)
