"""`kioskctl render`: the kiosk's face and voice rendered offline into an MP4, from a text or a recording.

The renders run the real `kioskctl` entry point in a subprocess (this checkout first on its path); the
mouth is found again in every frame by the landmark model (bench/lip_sync.py) and compared with the sound
track's loudness. Bad requests are run in-process through kioskctl's own main."""

from __future__ import annotations

import io
import os
import re
import signal
import struct
import subprocess
import sys
import time
import unicodedata
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from bench import av_sync, lip_sync
from daemon.cli_kioskctl import main
from daemon.offline_render import LEAD_S, PAUSE_S
from daemon.render_inputs import MAX_SENTENCE_CHARS, pieces

ROOT = Path(__file__).resolve().parent.parent
KIOSKCTL = Path(sys.executable).parent / "kioskctl"
TEXT = ("Hello, and welcome to the branch. The cash machines are just outside the main entrance. "
        "Maybe my bank can help you.")
LONG_TEXT = " ".join(["The cash machines are just outside the main entrance, and we open at half past nine."] * 30)


def kioskctl(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the entry point, running this checkout's code
    return subprocess.Popen([str(KIOSKCTL), "render", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = kioskctl(*args, cwd=cwd)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def analysed(video: Path) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, int]:
    """fps, the lips' gap per frame (face heights, less the first frame's), each frame's loudness, the sound
    track and its rate."""
    with av.open(str(video)) as c:
        fps = float(c.streams.video[0].average_rate)
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    audio, rate = av_sync.sound(video)
    gap = lip_sync.openings(frames)
    return fps, gap - gap[0], lip_sync.loudness(audio, rate, fps, 0, len(frames)), audio, rate


def top_boxes(path: Path) -> list[str]:
    """The MP4's top-level boxes, in order."""
    kinds = []
    with path.open("rb") as f:
        while len(header := f.read(8)) == 8:
            size, kind = struct.unpack(">I4s", header)
            kinds.append(kind.decode("latin-1"))
            if size == 0:  # to the end of the file
                break
            if size == 1:  # a 64-bit size follows
                size = struct.unpack(">Q", f.read(8))[0] - 8
            f.seek(size - 8, io.SEEK_CUR)
    return kinds


def quiet_runs(loud: np.ndarray, frames: int) -> list[tuple[int, int]]:
    """(first, end) frames of each run at least `frames` long where the sound is silent."""
    quiet = np.concatenate([[False], loud < 0.02 * loud.max(), [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(int)))
    return [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= frames]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty site file: the renders use the default config whatever this machine's /etc/kioskd holds."""
    path = tmp_path_factory.mktemp("site") / "site.yaml"
    path.write_text("{}\n")
    return path


def test_a_text_becomes_a_video_of_the_face_saying_it(tmp_path: Path, site: Path) -> None:
    out = tmp_path / "hello.mp4"
    code, stdout, stderr = run("--text", TEXT, "--size", "960x540", "--seed", "1", "--config", str(site),
                               "--out", out.name, cwd=tmp_path)
    assert code == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hello.mp4"]  # no temporary file left
    m = re.search(r"rendered ([\d.]+) s of video in ([\d.]+) s \(([\d.]+)× real time\)", stdout)
    assert m, stdout
    assert float(m[3]) > 1.0  # loose: the machine is shared; README has the measured ratios

    with av.open(str(out)) as c:
        assert [(s.type, s.codec_context.name) for s in c.streams] == [("video", "h264"), ("audio", "aac")]
        assert c.streams.video[0].codec_context.width == 960
    boxes = top_boxes(out)  # an ordinary MP4, its index in front: plays and seeks before it has all arrived
    assert "moof" not in boxes and boxes.index("moov") < boxes.index("mdat"), boxes
    fps, gap, loud, audio, rate = analysed(out)
    video_s, audio_s = len(gap) / fps, len(audio) / rate
    assert abs(audio_s - video_s) <= 1 / fps + 1024 / rate  # in step: within a frame and the AAC padding
    # The speech: after the half-second lead-in, ended half a second before the end (Piper's own silence
    # around a sentence aside), three sentences with two pauses between.
    spoken = np.flatnonzero(loud >= 0.02 * loud.max())
    assert 0.45 <= spoken[0] / fps <= 0.8
    assert 0.45 <= video_s - (spoken[-1] + 1) / fps <= 0.9
    pauses = [(a, b) for a, b in quiet_runs(loud, 10) if a > spoken[0] and b < spoken[-1]]
    assert len(pauses) == 2, pauses
    # The mouth follows the voice's loudness at a small lag (the same measure as the live kiosk's bench) ...
    corr, lag_ms = lip_sync.best_lag(gap, loud, fps)
    assert corr >= 0.3 and -45 <= lag_ms <= 45, (corr, lag_ms)
    speaking = np.percentile(gap[loud >= 0.02 * loud.max()], 90)
    assert speaking >= 0.015
    # ... and rests between sentences: closed and still, while the face goes on moving.
    for a, b in pauses:
        rest = gap[a + 3 : b - 3]  # the mouth leads the sound a little, and eases shut
        assert rest.max() < 0.3 * speaking and np.ptp(rest) < 0.01, (a, b, rest)


def test_a_chinese_text_is_said_by_the_chinese_voice(tmp_path: Path, site: Path) -> None:
    """espeak-ng's Mandarin, its figures and letters as a Mandarin speaker says them: 26 syllables in two
    sentences, at a Mandarin pace, the mouth following the sound."""
    code, _, stderr = run("--text", "您好，欢迎光临。请到ATM机取款，营业时间是9:30-17:00。", "--size", "480x270",
                          "--seed", "3", "--config", str(site), "--out", "zh.mp4", cwd=tmp_path)
    assert code == 0, stderr
    with av.open(str(tmp_path / "zh.mp4")) as c:
        assert [(s.type, s.codec_context.name) for s in c.streams] == [("video", "h264"), ("audio", "aac")]
    fps, gap, loud, audio, rate = analysed(tmp_path / "zh.mp4")
    assert abs(len(audio) / rate - len(gap) / fps) <= 1 / fps + 1024 / rate
    assert np.abs(audio).max() > 0.5  # AAC's float samples: the voice near its 0.9 peak, not silence
    spoken = np.flatnonzero(loud >= 0.02 * loud.max())
    said_s = len(gap) / fps - 2 * LEAD_S - PAUSE_S  # the two sentences' clips
    assert 3.5 <= 26 / said_s <= 6.5, 26 / said_s  # 您好欢迎光临 请到A-T-M机取款营业时间是九点半到十七点
    assert len([r for r in quiet_runs(loud, 10) if spoken[0] < r[0] and r[1] < spoken[-1]]) >= 1
    corr, lag_ms = lip_sync.best_lag(gap, loud, fps)
    assert corr >= 0.3 and -45 <= lag_ms <= 45, (corr, lag_ms)


def test_a_recording_moves_the_mouth_by_its_loudness(tmp_path: Path, site: Path) -> None:
    """Speech-like bursts (a 120 Hz voice's harmonics in syllables) between silences, at 16 kHz: the mouth
    opens in the bursts and rests in the silences."""
    rate = 16000
    t = np.arange(int(1.2 * rate)) / rate
    burst = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 8)) * np.abs(np.sin(2 * np.pi * 2.5 * t)) * 0.25
    silence = np.zeros(int(0.8 * rate))
    pcm = np.concatenate([burst, silence, burst, silence, burst])
    wav = tmp_path / "bursts.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((pcm * 32767).astype(np.int16).tobytes())
    code, _, stderr = run("--audio", wav.name, "--size", "480x270", "--seed", "2", "--config", str(site),
                          "--out", "lips.mp4", cwd=tmp_path)
    assert code == 0, stderr
    fps, gap, loud, audio, rate_out = analysed(tmp_path / "lips.mp4")
    assert abs(len(audio) / rate_out - (len(pcm) / rate + 1.0)) < 0.1  # the recording, with the lead-in and out
    corr, lag_ms = lip_sync.best_lag(gap, loud, fps)
    assert corr >= 0.6 and -45 <= lag_ms <= 45, (corr, lag_ms)
    bursts = loud >= 0.3 * loud.max()
    assert np.percentile(gap[bursts], 75) >= 0.02
    silences = quiet_runs(loud, 10)
    assert len(silences) == 4  # lead-in, two silences, lead-out
    for a, b in silences:
        assert np.abs(gap[a + 3 : b - 3]).max() < 0.01


def part_file(folder: Path, proc: subprocess.Popen[str], timeout_s: float = 60) -> Path:
    """The render's temporary file once the encoder has written into it (the file itself is made before the
    portrait and voice load)."""
    deadline = time.monotonic() + timeout_s
    while True:
        parts = [p for p in folder.glob(".*.part.mp4") if p.stat().st_size > 0]
        if parts:
            return parts[0]
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)


@pytest.mark.parametrize(("sig", "code", "said"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated"),
                                                   (signal.SIGHUP, 129, "terminated")])
def test_an_interrupted_render_leaves_nothing(tmp_path: Path, site: Path, sig: signal.Signals, code: int, said: str) -> None:
    proc = kioskctl("--text", LONG_TEXT, "--size", "320x180", "--config", str(site), "--out", "long.mp4", cwd=tmp_path)
    try:
        part_file(tmp_path, proc)  # encoding has begun
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    assert f"{said}: nothing written" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_render_that_fails_says_why_and_leaves_nothing(tmp_path: Path, site: Path) -> None:
    """A folder takes the output's name while it renders: putting the video in place fails."""
    out = tmp_path / "taken.mp4"
    proc = kioskctl("--text", TEXT, "--size", "320x180", "--config", str(site), "--out", out.name, cwd=tmp_path)
    try:
        part_file(tmp_path, proc)
        out.mkdir()
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 1, stderr
    assert "kioskctl render: [Errno 21] Is a directory" in stderr and "nothing written" in stderr, stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == [out] and not list(out.iterdir())


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGHUP, 129)])
def test_an_interrupt_while_checking_the_request_exits_cleanly(sig: signal.Signals, code: int, tmp_path: Path, site: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from daemon import render_inputs

    def interrupted(*_: object) -> None:
        os.kill(os.getpid(), sig)
        time.sleep(5)  # the handler raises in here

    monkeypatch.setattr(render_inputs, "check_text", interrupted)
    hup = signal.getsignal(signal.SIGHUP)
    began = time.monotonic()
    assert main(["render", "--config", str(site), "--text", "Hello.", "--out", str(tmp_path / "hi.mp4")]) == code
    assert time.monotonic() - began < 5
    assert "nothing written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGHUP) is hup  # the render's handler is undone


def test_an_interrupt_as_the_file_is_finished_leaves_nothing(tmp_path: Path, site: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C just as the encoders' flush ends, inside the face's teardown: the render is discarded without
    closing the recording a second time."""
    from daemon import render_inputs
    from daemon.cli_kioskctl import parser
    from daemon.offline_render import OfflineRender
    from kiosk.recorder import Recorder

    close = Recorder.close

    def interrupted(self: Recorder) -> None:
        close(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(Recorder, "close", interrupted)
    args = parser().parse_args(["render", "--config", str(site), "--text", "Hi.", "--size", "320x180",
                                      "--out", str(tmp_path / "hi.mp4")])
    job = render_inputs.job(args)
    with pytest.raises(KeyboardInterrupt), OfflineRender(job.config, job.out, voice=False) as render:
        render.rest(0.2)
        render.finish()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import cv2

    folder = tmp_path_factory.mktemp("images")
    (folder / "notes.png").write_text("not a picture")
    cv2.imwrite(str(folder / "wall.png"), (np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8))
    cv2.imwrite(str(folder / "huge.png"), np.zeros((5000, 8000, 3), np.uint8))  # 40 megapixels
    Image.new("1", (20000, 20000)).save(folder / "bomb.png")  # 48 kB on disk, 1.2 GB decoded as colour
    (folder / "noise.wav").write_bytes(b"RIFF, but no audio in it")
    silence = np.zeros(8000 * 601, np.int16)  # ten minutes and a second at 8 kHz
    with wave.open(str(folder / "long.wav"), "wb") as w:  # its header says how long it is
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(silence.tobytes())
    with (folder / "streamed.flac").open("wb") as f:
        streamed_flac(f, silence, 8000)
    return folder


class _Pipe(io.RawIOBase):
    """A file FFmpeg cannot seek back in, as when a recording is streamed."""

    def __init__(self, f: io.BufferedWriter) -> None:
        self.f = f

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, b: bytes) -> int:  # type: ignore[override]
        return self.f.write(b)


def streamed_flac(f: io.BufferedWriter, pcm: np.ndarray, rate: int) -> None:
    """FLAC written without seeking back to fill in its length: FFmpeg reads no duration from it. Muxed as it
    is encoded, a second at a time, so the header goes out before the encoder knows the length."""
    with av.open(_Pipe(f), "w", format="flac") as c:
        stream = c.add_stream("flac", rate=rate, layout="mono")
        for second in np.array_split(pcm, -(-len(pcm) // rate)):
            frame = av.AudioFrame.from_ndarray(second.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    f.flush()
    with av.open(f.name) as c:
        assert c.duration is None


BAD = {
    "not an image": (["--portrait", "{images}/notes.png", "--text", "Hello."], "not a readable image"),
    "no face": (["--portrait", "{images}/wall.png", "--text", "Hello."], "no face found"),
    "huge image": (["--portrait", "{images}/huge.png", "--text", "Hello."],
                   "8000x5000 pixels is too large (at most 4096 pixels a side)"),
    "huge from its header": (["--portrait", "{images}/bomb.png", "--text", "Hello."],
                             "is too large (at most 4096 pixels a side)"),
    "empty text": (["--text", "  \n "], "the text is empty"),
    "punctuation only": (["--text", "... !?"], "no words to say"),
    "too long": (["--text", "spoken " * 1428 + "text"], "10,000 characters long: at most 5,000"),
    "chinese, English voice": (["--text", "你好，欢迎光临。", "--voice", "embedded:en_US-joe-medium"],
                               "reads en-us and cannot say '你好欢迎光临'"),
    "japanese": (["--text", "こんにちは。"], "embedded:en_US-joe-medium reads en-us and cannot say 'こんにちは'"),
    "russian, Chinese voice": (["--text", "Привет.", "--voice", "embedded:espeak-cmn"], "reads cmn and cannot say 'Привет'"),
    "text file missing": (["--text-file", "{images}/missing.txt"], "--text-file {images}/missing.txt: no such file"),
    "unplayable audio": (["--audio", "{images}/noise.wav"], "--audio {images}/noise.wav: not a readable audio file"),
    "recording too long": (["--audio", "{images}/long.wav"], "--audio {images}/long.wav: longer than 10 minutes"),
    "stream too long": (["--audio", "{images}/streamed.flac"], "--audio {images}/streamed.flac: longer than 10 minutes"),
    "size not WxH": (["--text", "Hello.", "--size", "960"], "expected WIDTHxHEIGHT"),
    "size too small": (["--text", "Hello.", "--size", "100x60"], "each side must be 160 to 3840"),
    "fps out of range": (["--text", "Hello.", "--fps", "240"], "--fps 240: must be 10 to 60"),
    "no such folder": (["--text", "Hello.", "--out", "{images}/nowhere/out.mp4"], "the folder {images}/nowhere does not exist"),
    "not mp4": (["--text", "Hello.", "--out", "{images}/out.avi"], "must end in .mp4"),
    "no such voice": (["--text", "Hello.", "--voice", "{images}/voice.onnx"], "--voice: {images}/voice.onnx does not exist"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_request_is_refused_and_writes_nothing(case: str, images: Path, site: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    args, reason = BAD[case]
    args = [a.format(images=images) for a in args]
    if "--out" not in args:
        args += ["--out", str(images / "out.mp4")]
    before = sorted(images.iterdir())
    assert main(["render", "--config", str(site), *args]) == 1
    assert reason.format(images=images) in capsys.readouterr().err
    assert sorted(images.iterdir()) == before


def test_an_odd_size_is_made_even_with_a_note(tmp_path: Path, site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--config", str(site), "--text", "Hi.", "--size", "321x181", "--out", str(tmp_path / "hi.mp4")]) == 0
    assert "H.264 needs even sides, rendering 320x180" in capsys.readouterr().err
    with av.open(str(tmp_path / "hi.mp4")) as c:
        assert (c.streams.video[0].codec_context.width, c.streams.video[0].codec_context.height) == (320, 180)


def test_a_long_text_is_said_in_pieces_a_voice_can_take() -> None:
    text = "Title\n\nFirst sentence. " + ", ".join(f"clause number {i} of a very long sentence" for i in range(40)) + "."
    said = pieces(text)
    assert said[:2] == ["Title", "First sentence."]
    assert all(len(p) <= MAX_SENTENCE_CHARS for p in said) and len(said) > 4
    assert " ".join(said[2:]) == text.split("\n\n")[1].removeprefix("First sentence. ")


def test_a_run_without_spaces_is_cut_too() -> None:
    url = "https://example.com/" + "x" * 1000
    said = pieces(f"See {url} today.")
    assert all(len(p) <= MAX_SENTENCE_CHARS for p in said) and len(said) >= 3
    assert "".join(said).replace(" ", "") == f"See{url}today."  # every character kept, in order
    accented = "e\u0301" * 300  # é as a letter and its accent: 600 characters
    said = pieces(accented)
    assert all(len(p) <= MAX_SENTENCE_CHARS and not unicodedata.combining(p[0]) for p in said)
    assert "".join(said) == accented


def test_a_long_chinese_sentence_is_cut_at_its_commas_with_no_space_added() -> None:
    sentence = "，".join(f"这是一个很长的句子的第{i}个分句" for i in range(60)) + "。"
    said = pieces(sentence)
    assert len(said) >= 2 and all(len(p) <= MAX_SENTENCE_CHARS for p in said)
    assert all(p.endswith(("，", "。")) for p in said)  # cut after a clause mark, never inside a clause
    assert "".join(said) == sentence
