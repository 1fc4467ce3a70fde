"""The whole kiosk in Chinese, five real processes on real models, with asr.language auto: a Mandarin
question spoken by a voice the kiosk does not use, real recorded Mandarin, and an English question, each
heard in its language and answered in it, with the Chinese voice, a moving mouth and Chinese captions."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from bench.asr_languages import MANDARIN, mandarin_audio
from bench.zh_voice import MandarinTestVoice
from daemon.config import load, resolve
from daemon.events import read_jsonl
from models.faq import load_dialogue, load_faq
from models.language import written_in
from tests.speech import espeak, silence, write_wav
from tests.test_end_to_end import answered, by_turn, run_to_end

ARTEFACTS = Path(__file__).resolve().parent.parent / "out" / "test-artefacts"
FAQ = load_faq(resolve(load().brain.faq))
ATM = next(e for e in FAQ if e.id == "atm")
HOURS = next(e for e in FAQ if e.id == "hours")
DIALOGUE = load_dialogue(resolve(load().brain.dialogue))


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("e2e-zh")
    wav = write_wav(tmp / "visitors.wav", np.concatenate([
        silence(1.0), MandarinTestVoice().synthesize("请问一下，附近哪里有取款机？"), silence(9.0),
        # Real recorded Mandarin: "welcome, everyone, to try the speech recognition model ...".
        (mandarin_audio(MANDARIN[0]) * 32767).astype(np.int16), silence(9.0),
        espeak("What are your opening hours?"), silence(8.0)]))
    record, events = tmp / "out.mp4", tmp / "events.jsonl"
    code = run_to_end("--audio-in", str(wav), "--record", str(record), "--events", str(events),
                      "-o", "asr.language=auto", run_dir=tmp / "run")
    return {"code": code, "events": read_jsonl(events), "record": record}


def said(events: list[dict], turn: int) -> str:
    return "".join(e["text"] for e in by_turn(events, "sentence")[turn])


def test_each_visitor_is_heard_and_answered_in_their_language(conversation: dict) -> None:
    events = conversation["events"]
    assert conversation["code"] == 0
    heard = by_turn(events, "asr_final")
    assert len(answered(events)) == 3, heard
    question, recording, english = answered(events)
    assert [heard[t][0]["language"] for t in (question, recording, english)] == ["zh", "zh", "en"]
    assert "取款机" in heard[question][0]["text"]
    assert by_turn(events, "reply")[question][0]["source"] == "faq"
    assert said(events, question) == (ATM.zh or "").replace(" ", "")
    # Real Mandarin about something else: answered in Chinese, whatever the route.
    assert written_in(said(events, recording)) == "zh"
    assert " ".join(e["text"] for e in by_turn(events, "sentence")[english]) == HOURS.answer


def test_the_chinese_answer_is_spoken_with_a_moving_mouth_and_chinese_captions(conversation: dict) -> None:
    events, record = conversation["events"], conversation["record"]
    clock = next(e for e in events if e["event"] == "clock_start")
    question = answered(events)[0]
    start = (by_turn(events, "playback_start")[question][0]["t_ns"] - clock["t_ns"]) / 1e9
    end = (by_turn(events, "turn_end")[question][0]["t_ns"] - clock["t_ns"]) / 1e9
    assert end - start > 3  # the ATM answer takes seconds to say
    x0, y0, x1, y1 = clock["mouth_box"]
    with av.open(str(record)) as c:
        fps = float(c.streams.video[0].average_rate)
        frames = [f.to_ndarray(format="rgb24") for k, f in enumerate(c.decode(video=0))
                  if start * fps <= k <= end * fps]
    mouth = np.stack([f[y0:y1, x0:x1].mean(axis=2) for f in frames])
    assert np.abs(np.diff(mouth, axis=0)).mean(axis=(1, 2)).mean() > 3.0  # the lips move while it speaks
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = frames[len(frames) * 2 // 3]
    av.VideoFrame.from_ndarray(shot, format="rgb24").to_image().save(ARTEFACTS / "e2e-zh.png")
    band = shot[int(shot.shape[0] * 0.75) :]  # the caption band at the bottom: light glyphs on a dark band
    assert (band.mean(axis=2) > 200).mean() > 0.01
