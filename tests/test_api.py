"""The HTTP API of a real headless kioskd on 127.0.0.1: health, auth (none, wrong, right token), bad JSON,
oversized bodies, unknown calls, the Prometheus text after spoken and typed turns (parsed with
prometheus-client's own parser), a screenshot that is a PNG of the face, the event stream without words,
and the API's own process restarted when it dies."""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from daemon.api_main import TokenError, read_token
from daemon.control import request
from daemon.paths import control_socket
from tests.speech import SAMPLE_WAV
from tests.sshd import free_port
from tests.test_end_to_end import kioskd, wait_ready


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    run_dir = tmp_path_factory.mktemp("run")
    token_file = tmp_path_factory.mktemp("state") / "api-token"
    port = free_port()
    proc = kioskd("--audio-in", "none", "-o", f"api.listen=127.0.0.1:{port}", "-o", f"api.token_file={token_file}",
                  "-o", "face.size=[320,180]", run_dir=run_dir, words=False)
    try:
        wait_ready(run_dir)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        deadline = time.monotonic() + 30
        while True:  # the API comes up beside the workers, not before them
            try:
                client.get("/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the API never answered"
                time.sleep(0.2)
        token = token_file.read_text().strip()
        yield {"client": client, "auth": {"Authorization": f"Bearer {token}"}, "token_file": token_file,
               "run_dir": run_dir}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_health_and_the_token_file(api: dict) -> None:
    c = api["client"]
    assert c.get("/healthz").json() == {"healthy": True, "reason": None}
    assert c.get("/readyz").status_code == 200
    assert stat.S_IMODE(api["token_file"].stat().st_mode) == 0o600
    assert "/v1/ask" in c.get("/openapi.json").json()["paths"]
    docs = c.get("/docs").text  # served from the box: a kiosk has no network for a CDN
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs
    bundle = c.get("/docs-assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000


def test_calls_need_the_right_token(api: dict) -> None:
    c = api["client"]
    none = c.get("/v1/status")
    assert none.status_code == 401 and "Bearer" in none.json()["detail"]
    assert none.headers["www-authenticate"] == "Bearer"
    assert c.get("/v1/status", headers={"Authorization": "Bearer not-the-token"}).status_code == 401
    assert c.post("/v1/say", json={"text": "hi"}, headers={"Authorization": "Basic abc"}).status_code == 401
    status = c.get("/v1/status", headers=api["auth"])
    assert status.status_code == 200
    assert [w["name"] for w in status.json()["workers"]] == ["ear", "asr", "brain", "voice", "face"]
    assert status.json()["api"]["state"] == "RUNNING"


def test_bad_bodies_and_unknown_calls_get_clear_errors(api: dict) -> None:
    c, auth = api["client"], api["auth"]
    bad = c.post("/v1/say", content=b'{"text": ', headers={**auth, "Content-Type": "application/json"})
    assert bad.status_code == 422 and "JSON" in json.dumps(bad.json())
    missing = c.post("/v1/ask", json={"words": "hello"}, headers=auth)
    assert missing.status_code == 422 and "text" in json.dumps(missing.json())
    huge = c.post("/v1/say", json={"text": "a" * 70_000}, headers=auth)
    assert huge.status_code == 413 and "65536" in huge.json()["detail"]
    chunks = iter([b'{"text": "', b"a" * 40_000, b"a" * 40_000, b'"}'])  # no Content-Length: streamed
    streamed = c.post("/v1/say", content=chunks, headers={**auth, "Content-Type": "application/json"})
    assert streamed.status_code == 413 and "65536" in streamed.json()["detail"]
    too_long = c.post("/v1/say", json={"text": "word " * 500}, headers=auth)
    assert too_long.status_code == 400 and "too long" in too_long.json()["detail"]
    unknown = c.get("/v1/nothing-here", headers=auth)
    assert unknown.status_code == 404 and "/v1/nothing-here" in unknown.json()["detail"]


def test_ask_and_metrics_after_spoken_and_typed_turns(api: dict) -> None:
    c, auth = api["client"], api["auth"]
    answer = c.post("/v1/ask", json={"text": "When are you open?"}, headers=auth).json()
    assert answer["source"] == "faq" and "Monday to Friday" in answer["text"]
    assert c.post("/v1/interrupt", headers=auth).status_code == 200
    # A spoken question: the ear hears a recording, so the turn has a voice-to-voice latency.
    assert request(control_socket(api["run_dir"]), {"cmd": "hear", "path": str(SAMPLE_WAV)})["ok"]
    deadline = time.monotonic() + 60
    while (v2v := _samples(c, "kioskd_voice_to_voice_seconds"))["kioskd_voice_to_voice_seconds_count"] < 1:
        assert time.monotonic() < deadline, "the spoken question was never answered"
        time.sleep(0.5)
    assert 0.05 < v2v["kioskd_voice_to_voice_seconds_sum"] < 30
    assert _samples(c, "kioskd_turns")['kioskd_turns_total{source="faq"}'] >= 1  # the typed one may be interrupted
    families = {f.name: f for f in text_string_to_metric_families(c.get("/metrics").text)}
    stages = {s.labels["stage"] for s in families["kioskd_stage_seconds"].samples if "stage" in s.labels}
    assert {"endpointing", "asr", "brain_first_sentence"} <= stages
    memory = {s.labels["worker"]: s.value for s in families["kioskd_worker_memory_bytes"].samples}
    assert set(memory) == {"ear", "asr", "brain", "voice", "face"} and min(memory.values()) > 20e6
    assert {s.labels["ring"] for s in families["kioskd_ring_drops"].samples} >= {"ear-asr", "voice-face"}
    assert families["kioskd_healthy"].samples[0].value == 1
    # The face reports its frame rate every 5 s from its start: a quick turn can be answered before the first report.
    deadline = time.monotonic() + 15
    while (fps := _samples(c, "kioskd_fps")["kioskd_fps"]) == 0:
        assert time.monotonic() < deadline, "the face never reported its frame rate"
        time.sleep(0.5)
    assert 5 < fps <= 35  # 30 when idle; loose: CI shares two cores
    recent = c.get("/v1/status", headers=auth).json()["recent_turns"]
    assert recent and recent[-1]["source"] == "faq" and "text" not in recent[-1]


def _samples(c: httpx.Client, family: str) -> dict[str, float]:
    """One family's samples from /metrics as {'name{label="value"}': value}."""
    found = next(f for f in text_string_to_metric_families(c.get("/metrics").text) if f.name == family)
    return {s.name + ("{" + ",".join(f'{k}="{v}"' for k, v in s.labels.items()) + "}" if s.labels else ""): s.value
            for s in found.samples}


def test_screenshot_is_a_png_of_the_face(api: dict, tmp_path: Path) -> None:
    shot = api["client"].get("/v1/screenshot", headers=api["auth"])
    assert shot.status_code == 200 and shot.headers["content-type"] == "image/png"
    assert shot.content[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "screenshot.png").write_bytes(shot.content)
    image = cv2.imdecode(np.frombuffer(shot.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (180, 320, 3)
    # The astronaut's face, not a blank screen: skin tones in the middle, detail everywhere.
    assert float(image.std()) > 30
    middle = image[40:120, 120:200].reshape(-1, 3).mean(axis=0)
    assert middle[2] > middle[0]  # more red than blue: a face
    assert not list(api["run_dir"].glob("screenshot-*.png")), "the API left its screenshot behind"


def test_event_stream_carries_timings_not_words(api: dict) -> None:
    c, auth = api["client"], api["auth"]
    seen: list[dict] = []
    deadline = time.monotonic() + 30
    with c.stream("GET", "/v1/events", headers=auth, timeout=30) as stream:
        turn = None
        for line in stream.iter_lines():  # a keep-alive comes at least every 15 s
            if turn is None:  # the stream is open: now make something happen
                turn = c.post("/v1/say", json={"text": "Hello there, this is a test."}, headers=auth).json()["turn"]
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
            if time.monotonic() > deadline or any(e["event"] == "turn_end" and e["turn"] == turn for e in seen):
                break
    sentences = [e for e in seen if e["event"] == "sentence" and e["turn"] == turn]
    assert sentences and all("text" not in e and e["words"] == 6 for e in sentences)


def test_a_dead_api_process_is_restarted(api: dict) -> None:
    c, auth = api["client"], api["auth"]
    before = c.get("/v1/status", headers=auth).json()["api"]
    pid = before["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        try:
            status = c.get("/v1/status", headers=auth).json()
            if status["api"]["pid"] not in (None, pid):
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the API did not come back"
        time.sleep(0.2)
    assert status["api"]["restarts"] == before["restarts"] + 1 and status["healthy"]


def test_healthz_says_why_while_the_face_restarts(api: dict) -> None:
    c, auth = api["client"], api["auth"]
    face = next(w for w in c.get("/v1/status", headers=auth).json()["workers"] if w["name"] == "face")
    os.kill(face["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (health := c.get("/healthz")).status_code == 200:
        assert time.monotonic() < deadline, "/healthz never noticed the face was gone"
        time.sleep(0.05)
    assert health.status_code == 503 and "face" in health.json()["reason"]
    deadline = time.monotonic() + 60
    while c.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline, "the face did not come back"
        time.sleep(0.2)


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    made = tmp_path / "state" / "api-token"
    token = read_token(made)
    assert len(token) >= 32 and stat.S_IMODE(made.stat().st_mode) == 0o600 and read_token(made) == token
    made.chmod(0o644)
    with pytest.raises(TokenError, match="chmod 600"):
        read_token(made)
    made.write_text("short\n")
    made.chmod(0o600)
    with pytest.raises(TokenError, match="16 characters"):
        read_token(made)
