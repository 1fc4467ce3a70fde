"""`kioskctl studio`: the real entry point serving its page on a free loopback port, used through Gradio's own
client (a text becomes a playable video with its progress shown, bad requests get `kioskctl render`'s words,
renders go one at a time, the status tab with no kiosk and with a real headless kioskd) and through a real
headless Chromium (upload, type, render, play; the page fetches nothing from outside the box). The browser's
screenshot is kept as out/test-artefacts/studio.png to be looked at."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from daemon.control import request
from daemon.paths import control_socket
from daemon.render_inputs import MAX_TEXT_CHARS
from tests.speech import SAMPLE_WAV
from tests.sshd import free_port
from tests.test_end_to_end import kioskd, wait_ready

ROOT = Path(__file__).resolve().parent.parent
KIOSKCTL = Path(sys.executable).parent / "kioskctl"
ARTEFACTS = ROOT / "out" / "test-artefacts"
TEXT = "Hello, and welcome to the branch. We open at half past nine."
LONGER = ("Hello, and welcome to the branch. The cash machines are just outside the main entrance. "
          "Maybe my bank can help you.")
JOE = "embedded:en_US-joe-medium"
LEAD_S = 0.5  # the face at rest before the first word and after the last (daemon/offline_render.py)


@dataclass(frozen=True)
class Studio:
    url: str
    api_port: int  # where the studio's config says the kiosk's API is
    token_file: Path
    proc: subprocess.Popen[str]


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    folder = tmp_path_factory.mktemp("studio")
    site = folder / "site.yaml"
    site.write_text("{}\n")  # the default config, whatever this machine's /etc/kioskd holds
    port, api_port, token_file = free_port(), free_port(), folder / "api-token"
    tmp = folder / "tmp"  # where the studio keeps uploads and videos while it runs
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SDL_AUDIODRIVER": "dummy", "TMPDIR": str(tmp)}
    log = (folder / "studio.log").open("w+")
    proc = subprocess.Popen([str(KIOSKCTL), "studio", "--port", str(port), "--config", str(site),
                             "-o", f"api.listen=127.0.0.1:{api_port}", "-o", f"api.token_file={token_file}"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"the studio exited with {proc.returncode}: {(folder / 'studio.log').read_text()}"
            assert time.monotonic() < deadline, "the studio never served its page"
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        yield Studio(url, api_port, token_file, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        finally:
            proc.kill()
            log.close()
    said = (folder / "studio.log").read_text()
    assert proc.returncode == 0 and "kioskctl studio: stopped" in said, said
    # The uploads and videos went with it, and onnxruntime's usage events were off: on, they keep a .ses file.
    assert list(tmp.iterdir()) == []


def test_it_listens_on_loopback_only(studio: Studio) -> None:
    port = int(studio.url.rsplit(":", 1)[1].strip("/"))
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                listening.append(local.rsplit(":", 1)[0])
    assert listening == ["0100007F"]  # 127.0.0.1, and on no other address


@pytest.mark.parametrize("case", ["port in use", "no such config"])
def test_a_studio_that_cannot_start_says_why(case: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args, reason = {
            "port in use": (["--port", str(port), "--config", str(tmp_path / "site.yaml")],
                            f"cannot serve on 127.0.0.1:{port}: the port is in use"),
            "no such config": (["--config", str(tmp_path / "missing.yaml")], "missing.yaml: no such config file"),
        }[case]
        (tmp_path / "site.yaml").write_text("{}\n")
        done = subprocess.run([str(KIOSKCTL), "studio", *args], env={**os.environ, "PYTHONPATH": str(ROOT)},
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and reason in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.fixture
def client(studio: Studio, tmp_path: Path) -> Client:
    return Client(studio.url, download_files=str(tmp_path), verbose=False)


def render(client: Client, text: str = "", *, portrait: str | None = None, audio: str | None = None,
           size: str = "480x270") -> str:
    return client.predict(handle_file(portrait) if portrait else None, text, handle_file(audio) if audio else None,
                          JOE, "as written", size, False, api_name="/render")


def playable(path: Path) -> tuple[float, float, float]:
    """The video's length from its frames, its sound's length, and the span from the first to the last
    sample that is not silence; AssertionError unless it has H.264 video and AAC sound."""
    with av.open(str(path)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.audio[0].codec_context.name == "aac"
        fps = float(c.streams.video[0].average_rate)
        frames = sum(1 for _ in c.decode(video=0))
    with av.open(str(path)) as c:
        rate = c.streams.audio[0].rate
        sound = np.concatenate([f.to_ndarray().mean(axis=0) for f in c.decode(audio=0)])
    loud = np.flatnonzero(np.abs(sound) > 0.02 * np.abs(sound).max())
    return frames / fps, len(sound) / rate, (loud[-1] - loud[0]) / rate


def test_a_text_becomes_a_playable_video_with_its_progress_shown(client: Client) -> None:
    began = time.monotonic()
    job = client.submit(None, TEXT, None, JOE, "as written", "480x270", False, api_name="/render")
    shown: list[tuple[float, str]] = []
    while not job.done():
        progress = job.status().progress_data
        if progress and progress[0].progress is not None:
            shown.append((progress[0].progress, progress[0].desc or ""))
        time.sleep(0.02)
    video = Path(job.result())
    took = time.monotonic() - began
    print(f"the studio rendered {TEXT!r} at 480x270 in {took:.1f} s")
    video_s, sound_s, speech_s = playable(video)
    assert abs(video_s - sound_s) < 0.1
    assert abs(video_s - speech_s - 2 * LEAD_S) < 0.4, (video_s, speech_s)
    assert 3 < speech_s < 8
    # The bar follows the frames drawn: it moves on while the face speaks, never back.
    speaking = [(p, d) for p, d in shown if d.startswith("speaking: ")]
    assert len({p for p, _ in speaking}) >= 3, shown
    assert [p for p, _ in speaking] == sorted(p for p, _ in speaking) and all(0 <= p <= 1 for p, _ in speaking)
    assert float(speaking[-1][1].split()[1]) > float(speaking[0][1].split()[1])  # "speaking: 3.2 s of video"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("uploads")
    cv2.imwrite(str(folder / "wall.png"), (np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8))
    cv2.imwrite(str(folder / "huge.png"), np.zeros((5000, 8000, 3), np.uint8))
    Image.new("1", (20000, 20000)).save(folder / "bomb.png")  # 48 kB on disk, over Pillow's own limit
    (folder / "notes.png").write_text("not a picture")
    (folder / "noise.wav").write_bytes(b"RIFF, but no audio in it")
    return folder


BAD = {
    "no face": ({"text": TEXT, "portrait": "wall.png"}, "portrait wall.png: no face found"),
    "huge image": ({"text": TEXT, "portrait": "huge.png"}, "8000x5000 pixels is too large (at most 4096 pixels a side)"),
    "huge from its header": ({"text": TEXT, "portrait": "bomb.png"}, "is too large (at most 4096 pixels a side)"),
    "not an image": ({"text": TEXT, "portrait": "notes.png"}, "portrait notes.png: not a readable image"),
    "empty text": ({"text": "  \n "}, "the text is empty: nothing to say"),
    "too long": ({"text": "spoken " * 1428 + "text"}, f"10,000 characters long: at most {MAX_TEXT_CHARS:,}"),
    "unplayable audio": ({"audio": "noise.wav"}, "--audio noise.wav: not a readable audio file"),
    "text and audio": ({"text": TEXT, "audio": "noise.wav"}, "Give a text or a recording, not both"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_request_gets_the_renders_own_reason(case: str, client: Client, files: Path) -> None:
    given, reason = BAD[case]
    with pytest.raises(AppError) as refused:
        render(client, given.get("text", ""), **{k: str(files / v) for k, v in given.items() if k != "text"})
    assert reason in str(refused.value) and "Traceback" not in str(refused.value), refused.value
    assert "/kioskd-studio-" not in str(refused.value)  # the file as it was named, not where the studio keeps it


def test_renders_go_one_at_a_time(client: Client, studio: Studio) -> None:
    first = client.submit(None, LONGER, None, JOE, "as written", "960x540", False, api_name="/render")
    deadline = time.monotonic() + 60
    while not (first.status().progress_data or first.done()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    second = Client(studio.url, verbose=False)  # another visitor
    with pytest.raises(AppError, match="Another video is being rendered: this machine makes one at a time"):
        render(second, TEXT)
    assert not first.done()  # it was refused while the first went on
    video_s, _, _ = playable(Path(first.result()))
    assert video_s > 6


def test_the_status_tab_says_when_no_kiosk_answers_then_shows_the_running_one(client: Client, studio: Studio,
                                                                              tmp_path: Path) -> None:
    said, screen = client.predict(api_name="/status")
    assert said == (f"No kiosk answers at http://127.0.0.1:{studio.api_port} (api.listen): kioskd is not running, "
                    "or its API listens elsewhere.") and screen is None
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    proc = kioskd("--audio-in", "none", "-o", f"api.listen=127.0.0.1:{studio.api_port}",
                  "-o", f"api.token_file={studio.token_file}", "-o", "face.size=[320,180]", run_dir=run_dir,
                  words=False)
    try:
        wait_ready(run_dir, proc=proc)
        # The API comes up beside the workers, and the face reports its frame rate every few seconds.
        said, screen = status_once(client, lambda said: "Frames a second: **" in said)
        assert said.startswith("**idle** · healthy"), said
        assert float(said.split("Frames a second: **")[1].split("**")[0]) > 10, said
        for worker in ("ear", "asr", "brain", "voice", "face"):
            assert f"| {worker} | RUNNING |" in said, said
        assert said.endswith("No spoken question answered yet.")
        shot = cv2.imread(screen)
        assert shot.shape == (180, 320, 3) and shot.std() > 10  # the face, not a blank screen
        assert request(control_socket(run_dir), {"cmd": "hear", "path": str(SAMPLE_WAV)})["ok"]
        said, _ = status_once(client, lambda said: "Spoken questions answered lately" in said)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    turn = said.splitlines()[-1].strip("| ").split(" | ")  # turn, source, voice to voice, each stage
    assert turn[1] == "faq" and 0 < float(turn[2]) < 10_000 and len(turn) >= 5, said


def status_once(client: Client, shows: Callable[[str], bool], timeout_s: float = 90) -> tuple[str, str | None]:
    """The status tab's Markdown and screenshot once the Markdown shows what is waited for."""
    deadline = time.monotonic() + timeout_s
    while True:
        said, screen = client.predict(api_name="/status")
        if shows(said):
            return said, screen
        assert time.monotonic() < deadline, said
        time.sleep(1)


# -- in a real browser ---------------------------------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[object]:
    for tool in ("chromium", "chromedriver"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/setup.sh installs it)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")  # Debian's, and its driver: Selenium fetches neither
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                "--disable-background-networking", "--disable-component-update", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # every request the page makes
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_visitor_makes_a_video_in_the_browser(browser: object, studio: Studio, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait
    from skimage import data

    assert isinstance(browser, WebDriver)
    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    browser.get(studio.url)
    wait = WebDriverWait(browser, 60)
    wait.until(shown.presence_of_element_located((By.CSS_SELECTOR, "#portrait input[type=file]"))).send_keys(str(photo))
    wait.until(shown.presence_of_element_located((By.CSS_SELECTOR, "#preview img")))  # the upload is shown
    browser.find_element(By.CSS_SELECTOR, "#text textarea").send_keys(TEXT)
    browser.find_element(By.XPATH, "//*[@id='size']//label[contains(., '480x270')]").click()
    browser.find_element(By.ID, "render").click()
    source = WebDriverWait(browser, 120).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "#video video").get_attribute("src") or False)
    video = tmp_path / "downloaded.mp4"
    video.write_bytes(httpx.get(source, timeout=30).content)
    video_s, sound_s, speech_s = playable(video)
    assert abs(video_s - sound_s) < 0.1 and 3 < speech_s < 8
    plays = browser.execute_async_script(
        "const v = document.querySelector('#video video'), done = arguments[0];"
        "v.muted = true; v.play().then(() => setTimeout(() => done(v.currentTime), 500), e => done(String(e)));")
    assert isinstance(plays, float) and plays > 0, plays  # the browser itself decodes and plays it
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    png = browser.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True})["data"]
    (ARTEFACTS / "studio.png").write_bytes(base64.b64decode(png))
    asked = {json.loads(e["message"])["message"]["params"]["request"]["url"]
             for e in browser.get_log("performance")
             if json.loads(e["message"])["message"]["method"] == "Network.requestWillBeSent"}
    outside = [u for u in asked if not u.startswith((studio.url, "data:", "blob:"))]
    assert not outside, outside  # no font, script or picture from a CDN: it works with no network
