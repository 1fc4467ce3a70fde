"""`kioskctl push` against a real sshd on 127.0.0.1 and a running headless kioskd whose site file is
<root>/current/kioskd.yaml: a new FAQ is applied, an invalid config is refused before upload, a config that
fails the health gate is rolled back, and a push killed midway leaves the previous release serving."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
import yaml
from skimage import data

from daemon import releases as releases_mod
from daemon.push import Change, plan
from daemon.releases import MANIFEST, ReleaseError, Releases, file_name
from tests.sshd import sshd
from tests.test_end_to_end import kioskd, wait_ready

ROOT_DIR = Path(__file__).resolve().parent.parent
QUESTION = "Where is the safe deposit room?"


def faq(room: str) -> str:
    return yaml.safe_dump([{"id": "vault", "questions": [QUESTION, "Where do I find the safe deposit boxes?"],
                            "answer": f"The safe deposit room is next to the {room} meeting room."}])


def first_release(root: Path) -> str:
    """The release a kiosk is installed with (what `kioskctl release` does on the box itself)."""
    rid = "20260101T000000Z-0000"
    first_faq = root.parent / "first-faq.yaml"
    first_faq.parent.mkdir(parents=True, exist_ok=True)
    first_faq.write_text(faq("tulip"))
    name = file_name("faq", first_faq)
    config = {"brain": {"faq": f"{root}/current/{name}", "llm": {"model": None}},
              "voice": {"cache_faq": False}, "face": {"size": [320, 180]}}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for member, text in (("kioskd.yaml", yaml.safe_dump(config)), (name, first_faq.read_text())):
            info = tarfile.TarInfo(member)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    buf.seek(0)
    releases = Releases(root)
    releases.receive(rid, buf)
    releases.seal(rid)
    releases.switch(rid)
    releases.mark_gated(rid)  # installed and seen working
    return rid


def remote_kioskctl(folder: Path, run_dir: Path) -> Path:
    """The kiosk's kioskctl, as sshd runs it: this checkout's, on the test kiosk's runtime directory. While a
    file pause-OP exists, `release OP` waits (writing its shell's pid to paused-OP) before it starts; for
    `receive`, after the first 700 bytes of the upload have reached it."""
    script = folder / "kioskctl"
    wait = f"""echo $$ > "{folder}/paused-$op"
  i=0; while [ -e "{folder}/pause-$op" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"""
    script.write_text(f"""#!/bin/sh
cd {ROOT_DIR}
export KIOSKD_RUNTIME_DIR={run_dir}
op="$4"  # release --root ROOT OP ...
if [ "$1" = release ] && [ -e "{folder}/pause-$op" ]; then
  if [ "$op" = receive ]; then
    {{ head -c 700; {wait}; cat; }} | {sys.executable} -m daemon.cli_kioskctl "$@"
    exit $?
  fi
  {wait}
fi
exec {sys.executable} -m daemon.cli_kioskctl "$@"
""")
    script.chmod(0o755)
    return script


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("push")
    run_dir = tmp_path_factory.mktemp("run")
    root = folder / "etc"
    first = first_release(root)
    script = remote_kioskctl(folder, run_dir)
    # Through the forced command of README's recipe, as a push key on a real kiosk is.
    gate = f"cd {ROOT_DIR} && exec {sys.executable} -m daemon.push_gate --root {root} --kioskctl {script}"
    with sshd(folder / "ssh", gate) as ssh_config:
        proc = kioskd("--audio-in", "none", "--config", str(root / "current" / "kioskd.yaml"), "-o", "api.listen=null",
                      run_dir=run_dir)
        try:
            wait_ready(run_dir)
            yield {"root": root, "folder": folder, "run_dir": run_dir, "ssh_config": ssh_config, "first": first}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def push(kiosk: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_push_cmd(kiosk, *args), capture_output=True, text=True, timeout=300, cwd=ROOT_DIR)


def _push_cmd(kiosk: dict, *args: str) -> list[str]:
    return [sys.executable, "-m", "daemon.cli_kioskctl", "push", "kiosk", "--ssh-config", str(kiosk["ssh_config"]),
            "--remote-root", str(kiosk["root"]), "--healthy-s", "2",
            "--reload-timeout", "30", *args]


def ask(kiosk: dict) -> dict:
    out = subprocess.run([sys.executable, "-m", "daemon.cli_kioskctl", "--runtime-dir", str(kiosk["run_dir"]), "ask",
                          "--json", QUESTION], capture_output=True, text=True, timeout=60, cwd=ROOT_DIR)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def state(kiosk: dict) -> tuple[str | None, list[str]]:
    releases = Releases(kiosk["root"])
    return releases.current(), sorted(p.name for p in releases.dir.iterdir())


def test_a_pushed_faq_is_applied_and_answers(kiosk: dict, tmp_path: Path) -> None:
    assert ask(kiosk)["text"] == "The safe deposit room is next to the tulip meeting room."
    new = tmp_path / "faq.yaml"
    new.write_text(faq("daisy"))
    out = push(kiosk, "--faq", str(new))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"uploading kioskd.yaml, {file_name('faq', new)}" in out.stdout
    current, _ = state(kiosk)
    assert current != kiosk["first"]
    release = kiosk["root"] / "releases" / current
    assert (release / MANIFEST).is_file()
    named = yaml.safe_load((release / "kioskd.yaml").read_text())["brain"]["faq"]
    assert named == f"{kiosk['root']}/current/{file_name('faq', new)}" and Path(named).is_file()
    answer = ask(kiosk)
    assert (answer["source"], answer["text"]) == ("faq", "The safe deposit room is next to the daisy meeting room.")
    assert status(kiosk)["release"] == current


def status(kiosk: dict) -> dict:
    return json.loads(subprocess.run([sys.executable, "-m", "daemon.cli_kioskctl", "--runtime-dir",
                                      str(kiosk["run_dir"]), "status", "--json"], capture_output=True, text=True,
                                     cwd=ROOT_DIR, timeout=30).stdout)


def first_faq_name_in(root: Path) -> str:
    return next(n for n in Releases(root).show()["files"] if n.startswith("faq-"))


def first_faq_name(kiosk: dict) -> str:
    return next(n for n in Releases(kiosk["root"]).show()["files"] if n.startswith("faq-"))


def test_a_new_portrait_restarts_the_face_and_nothing_else(kiosk: dict, tmp_path: Path) -> None:
    pids = {w["name"]: w["pid"] for w in status(kiosk)["workers"]}
    faq_name = first_faq_name(kiosk)
    portrait = tmp_path / "campaign.png"
    cv2.imwrite(str(portrait), cv2.flip(data.astronaut(), 1)[:, :, ::-1])  # a different photo of a face
    out = push(kiosk, "--portrait", str(portrait))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"keeping {faq_name}" in out.stdout
    after = {w["name"]: w["pid"] for w in status(kiosk)["workers"]}
    assert [n for n in pids if after[n] != pids[n]] == ["face"]


def test_an_invalid_config_is_refused_before_upload(kiosk: dict, tmp_path: Path) -> None:
    before = state(kiosk)
    bad = tmp_path / "kioskd.yaml"
    bad.write_text("vad:\n  threshold: 7\n")
    out = push(kiosk, "--config", str(bad))
    assert out.returncode == 1
    assert "refused before upload" in out.stderr and "vad.threshold" in out.stderr
    broken_faq = tmp_path / "faq.yaml"
    broken_faq.write_text("- questions: []\n")
    out = push(kiosk, "--faq", str(broken_faq))
    assert out.returncode == 1 and "--faq" in out.stderr
    assert state(kiosk) == before
    # Valid here, refused there: the kiosk's own validation finds its model file missing.
    config = yaml.safe_load((kiosk["root"] / "current" / "kioskd.yaml").read_text())
    config["voice"]["model"] = "/nowhere/voice.onnx"
    bad.write_text(yaml.safe_dump(config))
    out = push(kiosk, "--config", str(bad))
    assert out.returncode == 1 and "voice.model: /nowhere/voice.onnx does not exist" in out.stdout
    assert state(kiosk) == before


def test_a_config_failing_the_health_gate_is_rolled_back(kiosk: dict, tmp_path: Path) -> None:
    before, _ = state(kiosk)
    answer = ask(kiosk)["text"]
    config = yaml.safe_load((kiosk["root"] / "current" / "kioskd.yaml").read_text())
    config["asr"] = {"compute_type": "no-such-type"}  # valid to the schema; the ASR cannot load with it
    bad = tmp_path / "kioskd.yaml"
    bad.write_text(yaml.safe_dump(config))
    out = push(kiosk, "--config", str(bad))
    assert out.returncode == 3, out.stdout + out.stderr
    assert "FAILED the health gate" in out.stdout and "asr" in out.stdout and f"rolled back to {before}" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    assert state(kiosk)[0] == before
    assert ask(kiosk)["text"] == answer


def killed_at(kiosk: dict, op: str, tmp_path: Path) -> str:
    """Start a push of a new FAQ, wait until it reaches `release OP` on the kiosk, SIGKILL the push (its ssh
    too); the kiosk side stays paused. The FAQ's answer."""
    folder: Path = kiosk["folder"]
    (folder / f"pause-{op}").touch()
    new = tmp_path / "faq.yaml"
    new.write_text(faq(f"killed-at-{op}"))
    proc = subprocess.Popen(_push_cmd(kiosk, "--faq", str(new)), cwd=ROOT_DIR, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (folder / f"paused-{op}").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the push never reached the step"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    return f"The safe deposit room is next to the killed-at-{op} meeting room."


def resume(kiosk: dict, op: str, kill: bool) -> None:
    """Let the paused kiosk side go on, or SIGKILL it first (the kiosk's end of the push dies too)."""
    folder: Path = kiosk["folder"]
    if kill:
        os.kill(int((folder / f"paused-{op}").read_text()), signal.SIGKILL)
        subprocess.run(["pkill", "-KILL", "-f", f"cli_kioskctl release --root {kiosk['root']} {op}"], check=False)
    (folder / f"pause-{op}").unlink()
    (folder / f"paused-{op}").unlink()


def test_a_push_killed_during_its_upload_leaves_the_previous_release_serving(kiosk: dict, tmp_path: Path) -> None:
    before, _ = state(kiosk)
    answer = ask(kiosk)["text"]
    releases = Releases(kiosk["root"])
    killed_at(kiosk, "receive", tmp_path)
    deadline = time.monotonic() + 30
    while not (partial := [n for n in state(kiosk)[1] if not releases.sealed(n)]):
        assert time.monotonic() < deadline, "the kiosk never began to receive the upload"
        time.sleep(0.05)
    resume(kiosk, "receive", kill=True)  # both ends die with the release half received
    current, names = state(kiosk)
    assert [n for n in names if not releases.sealed(n)] == partial
    assert current == before and ask(kiosk)["text"] == answer
    with pytest.raises(ReleaseError, match="not sealed"):
        releases.switch(partial[0])
    assert partial[0] in releases.prune()


def test_a_push_killed_before_activation_leaves_the_previous_release_serving(kiosk: dict, tmp_path: Path) -> None:
    before, _ = state(kiosk)
    answer = ask(kiosk)["text"]
    killed_at(kiosk, "activate", tmp_path)
    resume(kiosk, "activate", kill=True)
    time.sleep(0.5)
    assert state(kiosk)[0] == before and ask(kiosk)["text"] == answer


def test_an_activation_whose_push_was_killed_still_finishes_through_its_gate(kiosk: dict, tmp_path: Path) -> None:
    before, _ = state(kiosk)
    new_answer = killed_at(kiosk, "activate", tmp_path)
    resume(kiosk, "activate", kill=False)
    deadline = time.monotonic() + 90
    activation = ["pgrep", "-f", f"release --root {kiosk['root']} activate"]  # the wrapper, then kioskctl
    while subprocess.run(activation, capture_output=True).returncode == 0:  # on the kiosk alone, to its end
        assert time.monotonic() < deadline, "the activation did not finish on the kiosk"
        time.sleep(0.5)
    current = state(kiosk)[0]
    assert current not in (None, before) and Releases(kiosk["root"]).gated(current)
    assert ask(kiosk)["text"] == new_answer


def test_a_fleet_push_stops_at_the_first_kiosk_it_cannot_push(kiosk: dict, tmp_path: Path) -> None:
    before = state(kiosk)
    new = tmp_path / "faq.yaml"
    new.write_text(faq("fleet"))
    hosts = tmp_path / "lobbies.txt"
    hosts.write_text("# first the one that is down\nlobby-7.invalid\nkiosk  # then this one\n")
    cmd = [a for a in _push_cmd(kiosk, "--faq", str(new), "--batch", "1") if a != "kiosk"]
    out = subprocess.run([*cmd, "--hosts", str(hosts)], capture_output=True, text=True, timeout=120, cwd=ROOT_DIR)
    assert out.returncode == 1 and "lobby-7.invalid: FAILED: ssh failed" in out.stdout
    assert "failed on lobby-7.invalid; not pushed: kiosk" in out.stderr
    # --ssh-option reaches ssh: a port nobody listens on, whatever the ssh config says.
    out = push(kiosk, "--faq", str(new), "--ssh-option", "Port=1")
    assert out.returncode == 1 and "ssh failed" in out.stdout
    assert state(kiosk) == before


def test_the_push_key_runs_nothing_but_kioskctl(kiosk: dict) -> None:
    def ssh(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ssh", "-F", str(kiosk["ssh_config"]), "kiosk", command], capture_output=True,
                              text=True, timeout=30)

    assert "not allowed" in ssh("cat /etc/shadow").stderr
    assert "not allowed" in ssh("kioskctl push elsewhere").stderr
    assert "not elsewhere" in ssh("kioskctl release --root /tmp show").stderr
    assert "not elsewhere" in ssh(f"kioskctl release --root {kiosk['root']} --root /tmp show").stderr
    assert "not allowed" in ssh("kioskctl --runtime-dir /tmp reload").stderr
    shown = ssh(f"kioskctl release --root {kiosk['root']} show")
    assert shown.returncode == 0 and json.loads(shown.stdout)["current"] == Releases(kiosk["root"]).current()


def test_releases_refuse_unsealed_switches_and_prune_leftovers(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "etc"
    rid = first_release(root)
    releases = Releases(root)
    partial = root / "releases" / "20260102T000000Z-0001"
    partial.mkdir()
    (partial / "kioskd.yaml").write_text("site: half\n")
    with pytest.raises(ReleaseError, match="not sealed"):
        releases.switch(partial.name)
    with pytest.raises(ReleaseError, match="not a release id"):
        releases.switch("../../elsewhere")
    bad_tar = io.BytesIO()
    with tarfile.open(fileobj=bad_tar, mode="w") as tar:
        info = tarfile.TarInfo("../escape.yaml")
        tar.addfile(info, io.BytesIO(b""))
    bad_tar.seek(0)
    with pytest.raises(ReleaseError, match="may hold"):
        releases.receive("20260103T000000Z-0002", bad_tar)
    assert not (root / "escape.yaml").exists() and not (releases.dir / "20260103T000000Z-0002").exists()
    big = io.BytesIO()
    with tarfile.open(fileobj=big, mode="w") as tar:
        info = tarfile.TarInfo("faq-0123456789ab.yaml")
        info.size = 1000
        tar.addfile(info, io.BytesIO(b"#" * 1000))
    big.seek(0)
    monkeypatch.setattr(releases_mod, "MAX_UPLOAD", 999)
    with pytest.raises(ReleaseError, match="over 0 MiB"):
        releases.receive("20260104T000000Z-0003", big)
    with pytest.raises(ReleaseError, match="sealed"):
        releases.carry(rid, ["faq.yaml"])
    assert releases.prune(keep=1) == [partial.name]
    assert releases.current() == rid and [p.name for p in releases.dir.iterdir()] == [rid]
    # A release whose config names a file inside another release (which a prune would delete) is refused.
    stray = root / "releases" / "20260105T000000Z-0004"
    stray.mkdir()
    (stray / "kioskd.yaml").write_text(f"brain: {{faq: {root}/releases/{rid}/{first_faq_name_in(root)}}}\n")
    with pytest.raises(releases_mod.config_mod.ConfigError, match="inside another release"):
        releases.seal(stray.name)


def test_a_failed_release_goes_back_to_the_last_that_passed_its_gate(tmp_path: Path) -> None:
    root = tmp_path / "etc"
    good = first_release(root)
    releases = Releases(root)
    ungated = "20260106T000000Z-0005"
    shutil.copytree(releases.dir / good, releases.dir / ungated)
    (releases.dir / ungated / releases_mod.GATED).unlink()
    failed = "20260107T000000Z-0006"
    shutil.copytree(releases.dir / ungated, releases.dir / failed)
    assert releases.fallback(failed, previous=ungated) == good  # the one before never passed: not there
    assert releases.fallback(failed, previous=good) == good
    assert releases.prune(keep=1) == [ungated]  # the newest sealed, and the last good one, stay
    (releases.dir / good / releases_mod.GATED).unlink()
    assert releases.fallback(failed, previous=good) is None
    releases.unset()
    assert releases.current() is None and releases.show()["current"] is None


@pytest.mark.parametrize(("config", "faq_setting", "carried"), [
    (None, "/etc/kioskd/current/faq-0123456789ab.yaml", True),  # a FAQ-only push keeps the kiosk's config
    ("face: {greeting: Hi}", "/etc/kioskd/current/faq-0123456789ab.yaml", True),  # silent on the FAQ: kept
    ("brain: {faq: faq/exhibition.yaml}", "faq/exhibition.yaml", False),  # names a packaged one
    ("brain: {faq: /etc/kioskd/current/faq-0123456789ab.yaml}", "/etc/kioskd/current/faq-0123456789ab.yaml",
     True),  # the kiosk's own config, downloaded and edited
])
def test_a_release_carries_what_the_new_config_does_not_replace(config: str | None, faq_setting: str, carried: bool,
                                                                tmp_path: Path) -> None:
    current = {"files": {"kioskd.yaml": "", "faq-0123456789ab.yaml": ""},
               "config": "brain: {faq: /etc/kioskd/current/faq-0123456789ab.yaml}\nsite: Old\n"}
    site = tmp_path / "kioskd.yaml"
    if config is not None:
        site.write_text(config)
    text, upload, carry = plan(Change(config=site if config is not None else None), current, "/etc/kioskd/")
    assert yaml.safe_load(text)["brain"]["faq"] == faq_setting and upload == {}
    assert carry == (["faq-0123456789ab.yaml"] if carried else [])
    assert (yaml.safe_load(text).get("site") == "Old") == (config is None)
