"""kioskd under a stand-in systemd: a real unix datagram socket as NOTIFY_SOCKET receives READY, STATUS,
WATCHDOG (only while healthy), RELOADING on SIGHUP (a bad config keeps the old one) and STOPPING."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from daemon.control import request
from daemon.events import read_jsonl
from daemon.paths import control_socket
from tests.test_end_to_end import wait_ready


class Notifications:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.got: list[tuple[float, dict[str, str]]] = []

    def drain(self) -> list[dict[str, str]]:
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return [m for _, m in self.got]
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.got.append((time.monotonic(), fields))

    def wait_for(self, key: str, value: str | None = None, timeout: float = 60) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        seen = len(self.got)
        while time.monotonic() < deadline:
            self.drain()
            for _, m in self.got[seen:]:
                if key in m and (value is None or m[key] == value):
                    return m
            time.sleep(0.05)
        raise AssertionError(f"no {key}={value} notification within {timeout} s; got {self.got[seen:]}")


def pids(run_dir: Path) -> dict[str, int]:
    return {w["name"]: w["pid"] for w in request(control_socket(run_dir), {"cmd": "status"})["workers"]}


def test_notify_sequence_watchdog_and_reload(runtime_dir: Path, tmp_path: Path) -> None:
    notes = Notifications(tmp_path / "notify.sock")
    site = tmp_path / "site.yaml"
    site.write_text("vad:\n  end_silence_ms: 300\n")
    events = tmp_path / "events.jsonl"
    env = {**os.environ, "SDL_AUDIODRIVER": "dummy", "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
           "WATCHDOG_USEC": "1000000"}
    proc = subprocess.Popen([sys.executable, "-m", "daemon.cli_kioskd", "--display", "offscreen", "--audio-in", "none",
                             "--config", str(site), "--events", str(events), "--runtime-dir", str(runtime_dir)],
                            env=env, start_new_session=True)
    try:
        notes.wait_for("READY", "1", timeout=120)
        wait_ready(runtime_dir)
        first = notes.drain()
        assert first[0].get("STATUS") == "starting workers"
        assert [m for m in first if "READY" in m] == [{"READY": "1", "STATUS": "listening"}]

        # A second kioskd on the same runtime directory (an operator trying a config) refuses, naming the
        # first, and the first kiosk's workers carry on untouched.
        before = pids(runtime_dir)
        second = subprocess.run([sys.executable, "-m", "daemon.cli_kioskd", "--display", "offscreen", "--audio-in",
                                 "none", "--runtime-dir", str(runtime_dir)],
                                env={k: v for k, v in env.items() if k != "NOTIFY_SOCKET"}, capture_output=True,
                                text=True, timeout=120)
        assert second.returncode == 1
        assert f"another kioskd (pid {proc.pid}) is running on {runtime_dir}" in second.stderr
        assert pids(runtime_dir) == before and proc.poll() is None
        time.sleep(2.0)
        notes.drain()
        pings = [t for t, m in notes.got if m.get("WATCHDOG") == "1"]
        assert len(pings) >= 3  # every 0.5 s while healthy

        # A hung renderer: no WATCHDOG from the moment it is declared hung until it is back.
        before = pids(runtime_dir)
        os.kill(before["face"], signal.SIGSTOP)
        stopped_at = time.monotonic()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and pids(runtime_dir)["face"] == before["face"]:
            time.sleep(0.2)
        n = len(read_jsonl(events))
        while time.monotonic() < deadline and not any(e["event"] == "worker_restart" for e in read_jsonl(events)[n - 5:]):
            time.sleep(0.2)
        time.sleep(1.0)
        notes.drain()
        pings_after = [t for t, m in notes.got if m.get("WATCHDOG") == "1" and t > stopped_at - 1]
        longest = max(b - a for a, b in itertools.pairwise(pings_after))
        assert longest > 2.0, f"watchdog kept pinging while the face was hung: {pings_after}"

        # SIGHUP with a changed VAD section: RELOADING, then READY; only the ear restarts.
        before = pids(runtime_dir)
        site.write_text("vad:\n  end_silence_ms: 450\n")
        proc.send_signal(signal.SIGHUP)
        reloading = notes.wait_for("RELOADING", "1")
        assert int(reloading["MONOTONIC_USEC"]) > 0
        notes.wait_for("READY", "1")
        after = pids(runtime_dir)
        assert after["ear"] != before["ear"]
        assert {k: v for k, v in after.items() if k != "ear"} == {k: v for k, v in before.items() if k != "ear"}

        # A broken config is refused and changes nothing.
        site.write_text("vad:\n  end_silence_ms: soon\n")
        reply = request(control_socket(runtime_dir), {"cmd": "reload"}, timeout=60)
        assert not reply["ok"] and "vad.end_silence_ms" in reply["error"]
        assert pids(runtime_dir) == after

        # So is a portrait the face could not animate: the face keeps the one it shows, and no restart loop.
        wall = tmp_path / "wall.png"
        noise = np.random.default_rng(1).integers(0, 255, (300, 300, 3), np.uint8)
        cv2.imwrite(str(wall), cv2.GaussianBlur(noise, (31, 31), 0))
        site.write_text(f"vad:\n  end_silence_ms: 450\nface:\n  portrait: {wall}\n")
        reply = request(control_socket(runtime_dir), {"cmd": "reload"}, timeout=60)
        assert not reply["ok"] and "face.portrait" in reply["error"] and "wall.png" in reply["error"]
        assert pids(runtime_dir) == after
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    notes.drain()
    assert code == 0
    assert notes.got[-1][1].get("STOPPING") == "1" or any(m.get("STOPPING") == "1" for _, m in notes.got[-3:])
    reloads = [e for e in read_jsonl(events) if e["event"] == "reload"]
    assert [r["ok"] for r in reloads] == [True, False, False]
    assert reloads[0]["restarted"] == ["ear"]
