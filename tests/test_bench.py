"""The benchmark's own measuring: stage arithmetic on synthetic events, and lip-sync analysis on a
recording whose mouth lags its sound by a known amount."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import av_sync, stats
from daemon.events import turns
from kiosk.recorder import Recorder

MS = 1_000_000


def answered_turn(turn: int, heard: str, said: list[str], ms: dict[str, int]) -> list[dict]:
    """The events of one answered turn, each `ms[event]` after the question's last voiced sample (at 1 s)."""
    t = 1_000 * MS
    at = {name: t + offset * MS for name, offset in ms.items()}
    return [
        {"event": "speech_end", "turn": turn, "t_ns": t, "endpoint_ns": at["endpoint"]},
        {"event": "asr_final", "turn": turn, "t_ns": at["asr_final"], "text": heard},
        {"event": "reply", "turn": turn, "t_ns": at["reply"], "source": "faq"},
        *({"event": "sentence", "turn": turn, "t_ns": at["sentence"] + 400 * MS * i, "text": text}
          for i, text in enumerate(said)),
        {"event": "tts_first_audio", "turn": turn, "t_ns": at["tts_first_audio"]},
        {"event": "playback_start", "turn": turn, "t_ns": at["playback_start"]},
    ]


def test_stages_add_up_to_voice_to_voice() -> None:
    events = answered_turn(7, "hi", ["a", "b"], {"endpoint": 300, "asr_final": 480, "reply": 490, "sentence": 500,
                                                 "tts_first_audio": 560, "playback_start": 590})
    events.append({"event": "speech_end", "turn": 8, "t_ns": 1_000 * MS})  # never answered: not a turn
    (turn,) = turns(events)
    assert turn["voice_to_voice_ms"] == 590
    assert turn["stages_ms"] == {"endpointing": 300, "asr": 180, "brain_first_sentence": 20,
                                 "voice_first_audio": 60, "playback_start": 30}
    assert sum(turn["stages_ms"].values()) == turn["voice_to_voice_ms"]
    assert stats.pct([10, 20, 30, 40]) == {"p50": 25, "p95": 38.5}
    assert stats.pct([]) is None


def _recording(tmp_path: Path, lag_frames: int, seconds: int = 6) -> tuple[Path, list[dict]]:
    """Tone bursts (3 frames each, at random) whose mouth opens `lag_frames` late."""
    fps, rate = 30, 22050
    rng = np.random.default_rng(3)
    loud = np.repeat(rng.random(seconds * fps // 3) > 0.5, 3).astype(float)
    loud[:15] = 0  # half a second of silence before the reply
    per_frame = rate // fps
    audio = (np.repeat(loud, per_frame) * 12000 * np.sin(np.arange(len(loud) * per_frame) * 0.3)).astype(np.int16)
    box = [40, 40, 80, 60]
    path = tmp_path / f"lag{lag_frames}-{seconds}s.mp4"
    rec = Recorder(path, (128, 96), fps, rate)
    for k in range(len(loud)):
        frame = np.full((96, 128, 4), 200, np.uint8)
        if k - lag_frames >= 0 and loud[k - lag_frames]:
            frame[box[1] : box[3], box[0] : box[2]] = 40
        rec.video(frame, k)
        rec.audio(audio[k * per_frame : (k + 1) * per_frame])
    rec.close()
    t0 = 10**12
    events = [
        {"event": "clock_start", "t_ns": t0, "fps": fps, "mouth_box": box},
        {"event": "playback_start", "turn": 1, "t_ns": t0 + 10**9 // 3},
        {"event": "turn_end", "turn": 1, "t_ns": t0 + (seconds - 0.2) * 10**9, "answered": True},
    ]
    return path, events


def test_av_offset_is_recovered(tmp_path: Path) -> None:
    in_sync = av_sync.analyse(*_recording(tmp_path, 0))
    late = av_sync.analyse(*_recording(tmp_path, 2))
    # AAC smears a hard tone onset ~20 ms early, so the absolute figure is good to about that much...
    assert abs(in_sync["av_offset_ms"]) < 25
    # ... and a mouth two frames late reads two frames later.
    assert late["av_offset_ms"] - in_sync["av_offset_ms"] == pytest.approx(2000 / 30, abs=8)
    assert late["mouth_latency_ms"]["p50"] - in_sync["mouth_latency_ms"]["p50"] == pytest.approx(2000 / 30, abs=8)
    # A long recording stays in sync: audio and video timing must not drift apart in the analysis.
    long = av_sync.analyse(*_recording(tmp_path, 0, seconds=60))
    assert abs(long["av_offset_ms"]) < 25


def test_barge_in_latency_from_events() -> None:
    events = [
        {"event": "playback_start", "turn": 1, "t_ns": 0},
        {"event": "barge_in", "turn": 2, "t_ns": 100 * MS, "speech_start_ns": 20 * MS},
        {"event": "playback_stop", "turn": 1, "t_ns": 135 * MS, "reason": "interrupted"},
        # A reply that ended by itself just as the visitor spoke: nothing was stopped, nothing counted.
        {"event": "playback_start", "turn": 3, "t_ns": 900 * MS},
        {"event": "turn_end", "turn": 3, "t_ns": 1500 * MS},
        {"event": "barge_in", "turn": 4, "t_ns": 1600 * MS, "speech_start_ns": 1510 * MS},
        {"event": "speech_end", "turn": 4, "t_ns": 2900 * MS},
        {"event": "playback_start", "turn": 4, "t_ns": 3400 * MS},
        {"event": "playback_stop", "turn": 4, "t_ns": 5000 * MS, "reason": "interrupted"},
    ]
    assert stats.barge_ins(events) == [115.0]


def test_kioskctl_report_reads_an_events_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from daemon.cli_kioskctl import main

    events = answered_turn(3, "where is the lift", ["Behind you."], {"endpoint": 300, "asr_final": 400, "reply": 410,
                                                                     "sentence": 420, "tts_first_audio": 421,
                                                                     "playback_start": 440})
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    assert main(["report", str(path)]) == 0
    out = capsys.readouterr().out
    assert "'where is the lift'" in out and "Behind you." in out and "voice-to-voice latency: 440 ms" in out
    path.write_text("not json\n")
    assert main(["report", str(path)]) == 1


def test_written_questions_are_spoken_in_voices_the_samples_do_not_use(tmp_path: Path) -> None:
    from bench.spoken_questions import VOICES, ZH_VARIANTS, read_questions, speak_all
    from bench.zh_voice import MandarinTestVoice
    from kiosk.audio_sources import decode_file

    labelled = read_questions(Path(__file__).parent / "data" / "routing_questions_fresh.yaml", {"smalltalk"})
    assert labelled and all(isinstance(q, str) for q in labelled)
    plain = tmp_path / "q.yaml"
    plain.write_text("- Where can I park?\n- Is there wifi?\n- 洗手间在哪里？\n")
    wavs = speak_all(read_questions(plain), tmp_path / "wav")
    a, b, zh = (decode_file(w) for w in wavs)
    assert len(a) > 16000 * 3 and len(b) > 16000 * 3  # speech between 1 s and 1.5 s of silence
    assert not np.array_equal(a[:16000], a[16000:32000])  # the second second holds speech
    assert VOICES[0][0] != "en-us" and VOICES[0] != VOICES[1]
    # Chinese in the Mandarin test voice (Whisper does not understand espeak-ng's), its variants taking turns too.
    assert np.array_equal(zh[16000:-24000], MandarinTestVoice().synthesize("洗手间在哪里？", ZH_VARIANTS[2]))
    assert not zh[:16000].any() and not zh[-24000:].any()
    plain.write_text("just a string\n")
    with pytest.raises(ValueError, match="expected a YAML list"):
        read_questions(plain)


def test_kioskctl_hands_bench_to_the_bench_program() -> None:
    kioskctl = Path(sys.executable).parent / "kioskctl"
    shown = subprocess.run([kioskctl, "bench", "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "--turn-set" in shown.stdout and "kioskctl bench" in shown.stdout
    refused = subprocess.run([kioskctl, "bench", "--turns", "0", "-o", "vad.speculate_ms=0"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "kioskctl bench: --turns must be at least 1" in refused.stderr
    wrong = subprocess.run([kioskctl, "status", "--turns", "3"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "unrecognized arguments: --turns 3" in wrong.stderr
