"""Structured events: the vocabulary (every name a stage or the supervisor reports, defined here once),
written as JSON lines when asked and logged (words only where privacy.log_transcripts allows); latency
figures are computed from them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from models.language import HAN_RANGES

log = logging.getLogger("kioskd.events")


class Event(StrEnum):
    """What happened, as the `event` field of a report; fields beside it are named where it is emitted."""

    READY = "ready"  # supervisor: every worker is ready (boot_ms)
    WORKER_READY = "worker_ready"  # supervisor: a worker is ready after its spawn (start_ms, setup_ms)
    WORKER_EXIT = "worker_exit"  # supervisor: a worker exited or was killed (reason, state)
    WORKER_RESTART = "worker_restart"  # supervisor: a restarted worker is back (restarts, down_ms)
    RELOAD = "reload"  # supervisor: a configuration reload, taken or refused (ok, changed, restarted)
    OPENING = "opening"  # supervisor: the schedule opened or closed the kiosk (open, note), and at READY
    HEAR_START = "hear_start"  # ear: an audio file is being played in as the microphone
    HEAR_FAILED = "hear_failed"  # ear: that file cannot be played
    HEAR_END = "hear_end"  # ear: the file has been heard to its end
    INPUT_END = "input_end"  # ear: no more input will come (a file, not a microphone)
    SPEECH_START = "speech_start"  # ear: a visitor began to speak (opens a turn; continues: the turn it carries on)
    SPEECH_PAUSE = "speech_pause"  # ear: a first pause, judged at once
    SPEECH_DISCARDED = "speech_discarded"  # ear: too short to be speech
    SPEECH_END = "speech_end"  # ear: the utterance is over (t_ns: last voiced sample; endpoint_ns: decision)
    TURN_AUDIO = "turn_audio"  # ear: smart-turn's verdict on a pause
    TURN_AUDIO_FAILED = "turn_audio_failed"  # ear: smart-turn could not judge it
    BARGE_IN = "barge_in"  # ear: the visitor spoke over the reply
    SPEECH_RESUMED = "speech_resumed"  # ear: the visitor carried on the turn just ended (continues)
    ASR_SPECULATIVE = "asr_speculative"  # asr: transcript at a pause, and whether it sounds finished
    ASR_SKIPPED = "asr_skipped"  # asr: a speculation the visitor's later words made void
    ASR_FINAL = "asr_final"  # asr: the utterance's transcript
    REPLY = "reply"  # brain: the routing decision (source, entry, score, reason)
    LLM_PREFILLED = "llm_prefilled"  # brain: the prompt for a speculative transcript is evaluated ahead
    LLM_FIRST_TOKEN = "llm_first_token"  # brain: the LLM's first piece (backend)
    LLM_REMOTE_FAILED = "llm_remote_failed"  # brain: the remote LLM failed (reason, after_text)
    REPLY_REJECTED = "reply_rejected"  # brain: an LLM sentence failed the reply check
    REPLY_CUT = "reply_cut"  # brain: an LLM reply stopped before its end
    SENTENCE = "sentence"  # brain: a sentence sent to the voice (text, seq)
    REPLY_END = "reply_end"  # brain: the reply is complete (sentences)
    TTS_FIRST_AUDIO = "tts_first_audio"  # voice: the reply's first sentence is audio (synth_ms, cached)
    CLOCK_START = "clock_start"  # face: the playback and recording clock's origin (fps, mouth_box)
    PLAYBACK_START = "playback_start"  # face: the reply's first sample is played
    PLAYBACK_STOP = "playback_stop"  # face: the speaker fell silent on an interrupt
    FRAME_STATS = "frame_stats"  # face: render times and present intervals of the last frames
    FACE_DRIVER = "face_driver"  # face: the neural face driver is running, failed or given up (state, reason)
    TURN_END = "turn_end"  # face (or asr, supervisor): the turn is over (answered, reason)


# Events worth a log line; frame statistics and the like go to the JSONL file only.
_LOGGED = {Event.SPEECH_START, Event.SPEECH_END, Event.ASR_FINAL, Event.SENTENCE, Event.PLAYBACK_START,
           Event.TURN_END, Event.READY, Event.FACE_DRIVER}
# The fields that hold words: a visitor's, or a reply's (which may repeat them). A rejected reply's reason
# quotes it after its kind ("not found in the facts: ...").
WORDS = {Event.ASR_SPECULATIVE: "text", Event.ASR_FINAL: "text", Event.SENTENCE: "text", Event.REPLY_REJECTED: "reason"}
# Card, account and phone numbers: six digits or more, in groups or not. Times, amounts and years are shorter.
# Whisper may write digits said one by one in Chinese as characters (幺 is 1 in a phone number), and a count
# in characters has 十, 百 or 万 between its digits, so it is never six of them in a row.
# Groups may be parted by a space, a dash or a comma (Whisper writes "幺三八，一二三四" and "138, 1234").
_DIGIT = "[\\d〇零一二三四五六七八九幺]"
_DIGIT_RUN = re.compile(f"{_DIGIT}(?:[\\s\\-,，、.．·]{{0,2}}{_DIGIT}){{5,}}")
# A word, or a Chinese character (Chinese has no spaces, and a character is about a word).
_WORD = re.compile(f"[{HAN_RANGES}]|[^\\W{HAN_RANGES}]+")


def private(event: dict[str, Any], log_words: bool) -> dict[str, Any]:
    """`event` as it may be logged or stored: its words only when the site config allows them
    (privacy.log_transcripts), and digit runs masked even then; otherwise how many words there were."""
    field = WORDS.get(event["event"])
    if field is None or not isinstance(event.get(field), str):
        return event
    words: str = event[field]
    out = dict(event)
    if log_words:
        out[field] = _DIGIT_RUN.sub(lambda m: re.sub(_DIGIT, "#", m.group()), words)
    elif field == "reason":
        out[field] = words.split(":", 1)[0]
    else:
        del out[field]
        out["words"] = len(_WORD.findall(words))
    return out


class EventLog:
    """Writes each event, privacy applied, to the JSONL file (when asked), the log and its listeners (the
    metrics, the HTTP API's event stream)."""

    def __init__(self, path: Path | None, log_words: bool = False,
                 listeners: Iterable[Callable[[dict[str, Any]], None]] = ()) -> None:
        self._file: IO[str] | None = None
        self.log_words = log_words  # privacy.log_transcripts
        self.listeners = list(listeners)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8")

    def write(self, event: dict[str, Any]) -> None:
        event = private(event, self.log_words)
        if self._file is not None:
            self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
            self._file.flush()
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # a listener's bug (metrics, the API's feed) must not stop the supervisor
                log.exception("event listener %r failed on %s", listener, event["event"])
        if event["event"] in _LOGGED:
            extra = event.get("text")
            log.info("%s turn=%s%s", event["event"], event.get("turn"), f" {extra!r}" if extra else "")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# Stage -> (from event[field], to event[field]); each stage starts where the previous one ended, so the
# stages of a turn add up to its voice-to-voice latency.
STAGES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "endpointing": ((Event.SPEECH_END, "t_ns"), (Event.SPEECH_END, "endpoint_ns")),
    "asr": ((Event.SPEECH_END, "endpoint_ns"), (Event.ASR_FINAL, "t_ns")),
    "brain_first_sentence": ((Event.ASR_FINAL, "t_ns"), (Event.SENTENCE, "t_ns")),
    "voice_first_audio": ((Event.SENTENCE, "t_ns"), (Event.TTS_FIRST_AUDIO, "t_ns")),
    "playback_start": ((Event.TTS_FIRST_AUDIO, "t_ns"), (Event.PLAYBACK_START, "t_ns")),
}


def turns(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answered turns in order: what was heard and said, the reply's source, voice-to-voice (last voiced
    sample of the question -> first reply sample played) and the stages it splits into, in ms. A turn the
    visitor carried on is not one: the turn that continues it is answered instead."""
    first: dict[int, dict[str, dict[str, Any]]] = {}
    said: dict[int, list[str]] = {}
    carried: set[int] = set()
    for ev in events:
        if ev.get("turn") is not None:
            first.setdefault(ev["turn"], {}).setdefault(ev["event"], ev)
            if ev["event"] == Event.SENTENCE:
                said.setdefault(ev["turn"], []).append(ev.get("text", ""))
            elif ev["event"] == Event.SPEECH_START and ev.get("continues"):
                carried.add(ev["continues"])
    out = []
    for turn, evs in first.items():
        if Event.SPEECH_END not in evs or Event.PLAYBACK_START not in evs or turn in carried:
            continue
        stages = {}
        for name, ((ev_a, f_a), (ev_b, f_b)) in STAGES.items():
            if ev_a in evs and ev_b in evs and f_a in evs[ev_a] and f_b in evs[ev_b]:
                stages[name] = (evs[ev_b][f_b] - evs[ev_a][f_a]) / 1e6
        out.append({
            "turn": turn,
            "transcript": evs.get(Event.ASR_FINAL, {}).get("text", ""),
            "said": said.get(turn, []),
            "source": evs.get(Event.REPLY, {}).get("source"),
            "voice_to_voice_ms": (evs[Event.PLAYBACK_START]["t_ns"] - evs[Event.SPEECH_END]["t_ns"]) / 1e6,
            "stages_ms": stages,
        })
    return sorted(out, key=lambda t: t["turn"])
