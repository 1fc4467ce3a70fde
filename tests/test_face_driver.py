"""The neural face-driver plug-in, on a stand-in Wav2Lip-style ONNX model the tests build: the model
contract, the driver's own process behind two mailboxes (slow, stopped, killed, bad model), and the face
stage drawing the speaking mouth with it and with the rig when it is late."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import librosa
import numpy as np
import pytest

from accel.settings import AccelSettings
from daemon.cli_kioskctl import main as kioskctl
from daemon.config import load
from daemon.mailbox import Mailbox
from daemon.messages import Message, ReplyEnd, Sentence
from daemon.neural_mouth import NeuralMouth
from daemon.stage import LocalPort
from daemon.workers.face import Face
from daemon.workers.voice import Voice
from kiosk.face_view import FaceView, lay_mouth
from kiosk.portrait import load as load_portrait
from kiosk.renderer import Screen
from kiosk.rig import Pose
from models.face_driver import CROP, MEL_PER_S, SAMPLE_RATE, FaceDriver, mel_spectrogram, mel_window
from models.registry import ModelError
from tests.face_driver_standin import MOUTH, build

GREY = np.full((CROP, CROP, 3), 200, np.uint8)


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("driver") / "wav2lip-standin.onnx")


def tone(hz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (np.sin(2 * np.pi * hz * t) * 16000).astype(np.int16)


def test_the_mel_spectrogram_is_wav2lips() -> None:
    mel = mel_spectrogram(tone(1000.0))
    assert mel.shape == (80, MEL_PER_S + 1)  # 80 steps a second, centred frames
    centres = librosa.mel_frequencies(n_mels=82, fmin=55, fmax=7600)[1:-1]
    loudest = int(np.argmax(mel[:, 10:-10].mean(axis=1)))
    assert abs(centres[loudest] - 1000) < 100
    assert mel.max() <= 4 and mel.min() >= -4
    assert np.all(mel_spectrogram(np.zeros(SAMPLE_RATE, np.int16)) == -4)  # silence is the floor


def test_a_window_past_either_end_is_silence() -> None:
    mel = mel_spectrogram(tone(500.0, 0.5))
    assert mel_window(mel, 0.1).shape == (80, 16)
    assert np.array_equal(mel_window(mel, 0.1), mel[:, 8:24])
    assert np.all(mel_window(mel, 5.0) == -4)
    tail = mel_window(mel, 0.45)  # 0.45 s: steps 36..51 of a 41-step spectrogram
    assert np.array_equal(tail[:, :5], mel[:, 36:41]) and np.all(tail[:, 5:] == -4)


def test_the_driver_draws_the_mouth_the_audio_asks_for(standin: Path) -> None:
    driver = FaceDriver(standin)
    loud, quiet = mel_window(mel_spectrogram(tone(300.0)), 0.2), mel_window(mel_spectrogram(tone(300.0)), 9.0)
    spoken, silent = driver(loud, GREY), driver(quiet, GREY)
    assert spoken[MOUTH].mean() < 120 and np.array_equal(silent, GREY)
    assert np.array_equal(spoken[:48], GREY[:48])  # above the mouth: the reference, untouched


@pytest.mark.parametrize(("shapes", "why"), [
    ({"mel_shape": (1, 1, 80, 32)}, r"\[1, 1, 80, 32\]"),
    ({"mel_shape": (1, 80, 16)}, r"\[1, 80, 16\].*expected inputs"),
])
def test_a_model_of_another_shape_is_refused(tmp_path: Path, shapes: dict, why: str) -> None:
    with pytest.raises(ModelError, match=r"face\.driver: .*not a Wav2Lip-style model.*" + why):
        FaceDriver(build(tmp_path / "other.onnx", **shapes))


def test_a_broken_or_missing_file_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07this is not a model")
    with pytest.raises(ModelError, match=r"face\.driver: cannot load .*broken\.onnx"):
        FaceDriver(broken)
    with pytest.raises(ModelError, match=r"face\.driver: .*nowhere\.onnx does not exist"):
        FaceDriver(tmp_path / "nowhere.onnx")


def _answered(mouth: NeuralMouth, frame: int, window: np.ndarray, timeout_s: float) -> tuple[int, np.ndarray]:
    """Ask frame after frame (30 a second) until one is answered in time; the frame reached and its crop."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        mouth.poll(time.monotonic())
        mouth.ask(frame, window, GREY)
        time.sleep(1 / 30)
        drawn = mouth.answer(frame)
        if drawn is not None:
            return frame, drawn
        frame += 1
    raise AssertionError(f"no answer within {timeout_s} s")


def test_the_driver_process_answers_falls_behind_and_comes_back(standin: Path) -> None:
    """Its own process: answers; stopped, its answers age out and the face is told to use the rig; killed, it
    is reported and started again after a pause."""
    loud = mel_window(mel_spectrogram(tone(300.0)), 0.2)
    mouth = NeuralMouth(str(standin), max_lag=3, accel=AccelSettings())
    try:
        assert mouth.poll(time.monotonic()).state == "running"
        frame, drawn = _answered(mouth, 0, loud, timeout_s=30)
        assert drawn[MOUTH].mean() < 120
        assert mouth.proc is not None
        os.kill(mouth.proc.pid, signal.SIGSTOP)  # a driver that cannot keep up
        try:
            time.sleep(0.2)
            mouth.answer(frame)  # whatever it wrote before it stopped
            frame += 4
            mouth.ask(frame, loud, GREY)
            time.sleep(0.2)
            assert mouth.answer(frame) is None  # four frames late: not shown
        finally:
            os.kill(mouth.proc.pid, signal.SIGCONT)
        frame, _ = _answered(mouth, frame, loud, timeout_s=5)
        pid = mouth.proc.pid
        os.kill(pid, signal.SIGKILL)
        mouth.proc.wait()
        killed = time.monotonic()
        change = mouth.poll(killed)
        assert change is not None and change.state == "failed" and change.reason.startswith("exit status -9")
        assert mouth.answer(frame) is None
        assert mouth.poll(killed + 0.5) is None  # not started again at once ...
        assert mouth.poll(killed + 1.0).state == "running"  # ... but after a second
        _answered(mouth, frame + 1, loud, timeout_s=30)
        assert mouth.proc.pid != pid
    finally:
        names = mouth.requests.name, mouth.answers.name
        mouth.close()
    for name in names:  # nothing left in /dev/shm
        with pytest.raises(FileNotFoundError):
            Mailbox.attach(name)


def test_a_model_the_driver_cannot_use_is_reported_once_and_not_retried(tmp_path: Path) -> None:
    mouth = NeuralMouth(str(build(tmp_path / "other.onnx", mel_shape=(1, 1, 80, 32))), max_lag=3, accel=AccelSettings())
    try:
        changes = []
        deadline = time.monotonic() + 30
        while not changes or changes[-1].state == "running":
            assert time.monotonic() < deadline, changes
            change = mouth.poll(time.monotonic())
            if change is not None:
                changes.append(change)
            time.sleep(0.05)
        assert [c.state for c in changes] == ["running", "given up"]
        assert "face.driver" in changes[-1].reason and "[1, 1, 80, 32]" in changes[-1].reason
        assert mouth.poll(time.monotonic() + 3600) is None and mouth.proc is None
    finally:
        mouth.close()


def test_the_laid_mouth_covers_the_lower_face_only_without_a_seam(screen: Screen) -> None:
    view = FaceView(load_portrait("embedded:astronaut"), screen)
    pose = Pose()
    picture, _ = view.render(pose)
    before = picture.copy()
    x0, y0, x1, y1 = box = view.face_box(pose)
    mx0, my0, mx1, my1 = view.mouth_box()  # on the screen: made the picture's
    mx0, mx1, my0, my1 = mx0 - view.rect.x, mx1 - view.rect.x, my0 - view.rect.y, my1 - view.rect.y
    assert x0 < mx0 and y0 < my0 and mx1 < x1 and my1 < y1  # the crop holds the mouth
    lay_mouth(picture, box, np.zeros((CROP, CROP, 3), np.uint8))
    changed = np.any(picture != before, axis=2)
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.min() >= y0 + (y1 - y0) // 2 and rows.max() < y1  # below the crop's middle, inside it
    assert picture[my0:my1, mx0:mx1].mean() < 0.2 * before[my0:my1, mx0:mx1].mean()  # the mouth is the driver's
    # Faded in: at the crop's middle nothing changes, and its rim keeps most of the picture.
    edge = picture[y0 + (y1 - y0) * 55 // 100, x0 + 1].astype(float)
    assert edge.mean() > 0.8 * before[y0 + (y1 - y0) * 55 // 100, x0 + 1].mean()


def _speak(config_overrides: list[str], kill_driver_after_s: float | None = None) -> tuple[list[dict], float]:
    """The voice and the face in this process, the face paced in real time: a reply spoken; the face's events
    and the mean brightness of the mouth's box over the speaking frames."""
    config = load(overrides=["face.size=[480,270]", "voice.cache_faq=false", *config_overrides])
    voice_port, face_port = LocalPort(), LocalPort()
    voice = Voice(config, voice_port)
    voice.setup()
    face = Face(config, face_port, {"display": "offscreen"})
    face.setup()
    mouth_levels = []
    try:
        voice.handle(Message(Sentence("The cash machines are just outside, by the main entrance."), 1, 0))
        voice.handle(Message(ReplyEnd(), 1, 1))
        for _ in range(60):  # two seconds at rest: the driver starts
            face.tick()
        for msg in voice_port.take():
            face.handle(msg)
        began = time.monotonic()
        x0, y0, x1, y1 = face.view.mouth_box()
        while not any(e["event"] == "turn_end" for e in face_port.reported):
            if kill_driver_after_s is not None and time.monotonic() - began > kill_driver_after_s and face.driver.proc:
                face.driver.proc.kill()
                kill_driver_after_s = None
            t0 = time.monotonic()
            face.tick()
            assert time.monotonic() - t0 < 0.2, "a frame took longer than 200 ms"
            if face.playback.current is not None:
                mouth_levels.append(face.screen.bgrx()[y0:y1, x0:x1, :3].mean())  # the mouth's box on the screen
            assert time.monotonic() - began < 20, "the reply never ended"
    finally:
        face.teardown()
    return face_port.reported, float(np.mean(mouth_levels))


def test_the_face_speaks_with_the_drivers_mouth_and_the_rigs_when_it_dies(standin: Path) -> None:
    events, driven = _speak([f"face.driver={standin}"], kill_driver_after_s=1.0)
    _, rig_only = _speak([])
    mouths = [e["mouths"] for e in events if e["event"] == "frame_stats"]
    driver_frames, rig_frames = sum(m["driver"] for m in mouths), sum(m["rig"] for m in mouths)
    states = [e["state"] for e in events if e["event"] == "face_driver"]
    assert states[:3] == ["running", "failed", "running"], states
    assert driver_frames >= 20 and rig_frames >= 5, mouths  # the driver's mouth, the rig's while it was down
    assert driven < 0.85 * rig_only  # the stand-in darkens the lips as loud as the voice is


def test_kioskctl_validate_checks_the_driver_a_config_names(standin: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(f"face:\n  driver: {standin}\n")
    assert kioskctl(["validate", str(good)]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"face:\n  driver: {build(tmp_path / 'other.onnx', mel_shape=(1, 1, 80, 32))}\n")
    assert kioskctl(["validate", str(bad)]) == 1
    assert "face.driver" in (err := capsys.readouterr().err) and "[1, 1, 80, 32]" in err
