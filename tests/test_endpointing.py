"""Endpointing on a synthetic clock: VAD probabilities in, speech start/pause/end/discard out, with the
verdicts on a pause (smart-turn's on the voice, the speculative transcript's on the words) shortening or
stretching the trailing silence."""

from __future__ import annotations

import pytest

from daemon.config import VadConfig
from kiosk.endpointing import Endpoint, Endpointer, Kind

CHUNK_NS = 32_000_000  # 512 samples at 16 kHz
# chunk index -> ("audio", p) or ("words", 1.0 finished / 0.0 not / 2.0 finished and enough), before the chunk
Verdicts = dict[int, tuple[str, float]]


def feed_all(probs: list[float], cfg: VadConfig | None = None, verdicts: Verdicts | None = None,
             sound: range = range(0)) -> list[tuple[int, Endpoint]]:
    """Feed probabilities chunk by chunk; each verdict is about the latest pause reported (or, with
    `pause_ns` in the tuple's place of a stale one, whatever the test says). Chunks in `sound` pass the
    level and WebRTC gates whatever Silero says of them."""
    ep = Endpointer(cfg or VadConfig(), CHUNK_NS)
    out: list[tuple[int, Endpoint]] = []
    pause = -1
    for i, p in enumerate(probs):
        if verdicts and i in verdicts:
            source, value = verdicts[i]
            if source == "audio":
                ep.audio(value, pause)
            else:
                ep.words(bool(value), pause, value > 1)
        e = ep.feed(p, (i + 1) * CHUNK_NS, i in sound)
        if e:
            out.append((i, e))
            if e.kind is Kind.PAUSE:
                pause = e.t_ns
    return out


def kinds(events: list[tuple[int, Endpoint]]) -> list[Kind]:
    return [e.kind for _, e in events]


def end_chunk(probs: list[float], verdicts: Verdicts | None = None, cfg: VadConfig | None = None) -> int:
    """The chunk at which the utterance ended."""
    i, e = feed_all(probs, cfg, verdicts)[-1]
    assert e.kind is Kind.END
    return i


SPEECH_THEN_SILENCE = [0.9] * 20 + [0.0] * 60  # last voiced chunk: 19; the pause is reported at chunk 22


def test_a_judged_pause_without_a_verdict_waits_the_hesitant_silence() -> None:
    """A busy machine may judge a pause after `end_silence_ms`: that silence alone must not cut the visitor
    off (a 600 ms pause mid-question was heard as two turns); unjudged, it still ends the utterance."""
    events = feed_all([0.0] * 5 + [0.9] * 20 + [0.0] * 40)
    assert kinds(events) == [Kind.START, Kind.PAUSE, Kind.END]
    assert events[0][1].t_ns == 5 * CHUNK_NS
    assert events[1][1].t_ns == events[2][1].t_ns == 25 * CHUNK_NS  # both at the last voiced chunk's end
    assert events[1][0] - 24 == 3  # the pause is judged after 96 ms of silence
    assert (events[2][0] - 24) * 32 >= VadConfig().end_silence_hesitant_ms
    unjudged = end_chunk(SPEECH_THEN_SILENCE, cfg=VadConfig(speculate_ms=0))
    assert VadConfig().end_silence_ms <= (unjudged - 19) * 32 < VadConfig().end_silence_hesitant_ms


def test_without_a_voice_model_finished_words_end_at_once_and_unfinished_ones_wait() -> None:
    words_only = VadConfig(turn_model=None)
    plain = end_chunk(SPEECH_THEN_SILENCE, cfg=words_only)
    finished = end_chunk(SPEECH_THEN_SILENCE, {27: ("words", 1.0)}, words_only)  # ~250 ms into the silence
    hesitant = end_chunk(SPEECH_THEN_SILENCE, {27: ("words", 0.0)}, words_only)
    assert finished == 27 < plain == hesitant  # with no verdict, the words are waited for as long as for "and"
    assert (hesitant - 19) * 32 >= 1000


@pytest.mark.parametrize(("verdicts", "ends"), [
    ({25: ("audio", 0.95)}, "now"),  # the voice sounds finished: no need to wait for the words
    ({25: ("audio", 0.95), 27: ("words", 0.0)}, "now"),  # too late to take back
    ({25: ("audio", 0.1), 27: ("words", 1.0)}, "late"),  # "Where is the nearest?" with the voice still up
    ({25: ("audio", 0.6), 27: ("words", 1.0)}, "at the words"),  # the voice unsure: the words decide
    ({25: ("audio", 0.6), 27: ("words", 0.0)}, "late"),
    ({25: ("audio", 0.6)}, "late"),  # the voice unsure, the words not in: they are waited for
    ({25: ("words", 1.0), 27: ("audio", 0.6)}, "at the words"),  # finished words wait for the voice's verdict
    ({25: ("words", 1.0)}, "at end_silence"),  # ... which never came (a model failing): silence decides
    ({24: ("words", 0.0), 25: ("audio", 0.95)}, "late"),  # "and", "um": never finished, however it sounds
    ({25: ("audio", 0.1), 27: ("words", 2.0)}, "at the words"),  # finished Chinese words, however it sounds
    ({27: ("words", 2.0)}, "at the words"),  # ... without waiting for the voice's verdict
])
def test_voice_and_words_combine(verdicts: Verdicts, ends: str) -> None:
    chunk = end_chunk(SPEECH_THEN_SILENCE, verdicts)
    expected = {"now": 25, "at the words": 27,
                "at end_silence": end_chunk(SPEECH_THEN_SILENCE, cfg=VadConfig(speculate_ms=0))}
    if ends == "late":
        assert (chunk - 19) * 32 >= 1000
    else:
        assert chunk == expected[ends]


def test_a_verdict_on_an_earlier_pause_does_not_end_a_later_one() -> None:
    probs = [0.9] * 10 + [0.0] * 7 + [0.9] * 10 + [0.0] * 40
    ep = Endpointer(VadConfig(), CHUNK_NS)
    first_pause = None
    for i, p in enumerate(probs):
        if i == 30:  # both verdicts on the first pause arrive during the second one
            assert first_pause is not None
            ep.audio(0.99, first_pause)
            ep.words(True, first_pause)
        e = ep.feed(p, (i + 1) * CHUNK_NS)
        if e and e.kind is Kind.PAUSE and first_pause is None:
            first_pause = e.t_ns
        if e and e.kind is Kind.END:
            assert (i - 26) * 32 >= 500  # ended by silence, not by the stale verdicts
            return
    raise AssertionError("no END")


def test_speech_after_a_pause_voids_the_speculation() -> None:
    probs = [0.9] * 10 + [0.0] * 7 + [0.9] * 10 + [0.0] * 40
    events = feed_all(probs, verdicts={17: ("audio", 0.99), 18: ("words", 1.0)})  # both late: speech resumed at 17
    assert kinds(events) == [Kind.START, Kind.PAUSE, Kind.PAUSE, Kind.END]
    assert events[-1][1].t_ns == 27 * CHUNK_NS  # the end is after the second stretch of speech


def test_dip_shorter_than_the_pause_does_not_speculate() -> None:
    probs = [0.9] * 10 + [0.1] * 2 + [0.9] * 10 + [0.0] * 40
    assert kinds(feed_all(probs)) == [Kind.START, Kind.PAUSE, Kind.END]


def test_hysteresis_keeps_speech_between_thresholds() -> None:
    probs = [0.9] * 10 + [0.4] * 30 + [0.0] * 40  # 0.4 is above neg_threshold 0.35
    events = feed_all(probs)
    assert events[-1][1].kind is Kind.END and events[-1][1].t_ns == 40 * CHUNK_NS


def test_short_burst_is_discarded_without_speculation() -> None:
    probs = [0.9] * 3 + [0.0] * 30  # 96 ms < min_speech_ms 250
    assert kinds(feed_all(probs)) == [Kind.START, Kind.DISCARD]


def test_long_utterance_is_cut() -> None:
    events = feed_all([0.9] * 100, VadConfig(max_utterance_s=2))
    assert events[1][1].kind is Kind.END and events[1][1].cut is True
    assert events[1][1].t_ns - events[0][1].t_ns <= 2 * 10**9 + CHUNK_NS


def test_speculation_off() -> None:
    assert kinds(feed_all([0.9] * 20 + [0.0] * 30, VadConfig(speculate_ms=0))) == [Kind.START, Kind.END]


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="turn_incomplete"):
        VadConfig(turn_complete=0.4, turn_incomplete=0.5)


FINISHED_AT_22 = {23: ("audio", 0.99)}  # the pause after chunk 19 sounds finished: END at chunk 23


@pytest.mark.parametrize(("gap_chunks", "rejoins"), [(12, True), (31, True), (32, False), (60, False)])
def test_speech_soon_after_the_end_carries_the_utterance_on(gap_chunks: int, rejoins: bool) -> None:
    """A visitor whose pause was taken for the end and who goes on within rejoin_ms (1 s: 31 chunks of
    silence after the last voiced one) carries their utterance on; later speech is a new one."""
    probs = [0.9] * 20 + [0.0] * gap_chunks + [0.9] * 20 + [0.0] * 60
    events = feed_all(probs, verdicts=FINISHED_AT_22)
    assert kinds(events)[:4] == [Kind.START, Kind.PAUSE, Kind.END, Kind.START]
    assert events[2][0] == 23
    assert events[3][1].rejoins is rejoins and events[0][1].rejoins is False


@pytest.mark.parametrize(("sound_from", "rejoins"), [(48, True), (40, False), (56, False)])
def test_the_rejoin_window_counts_from_the_sound_silero_confirms_late(sound_from: int, rejoins: bool) -> None:
    """After a silent pause Silero may take a few hundred ms of a loud word to call it speech (seen on a
    real recording: 350 ms at -13 dBFS, p < 0.15): the window runs to the start of the sound it confirms
    (chunk 48, 28 chunks after the last voiced one), unless that sound went on longer than ONSET_LEAD_MS
    (15 chunks) before it, like a fan WebRTC hears as voice; without a sound it runs to Silero's start (56)."""
    probs = [0.9] * 20 + [0.0] * 28 + [0.1] * 8 + [0.9] * 20 + [0.0] * 60
    events = feed_all(probs, verdicts=FINISHED_AT_22, sound=range(sound_from, 56))
    assert kinds(events)[:4] == [Kind.START, Kind.PAUSE, Kind.END, Kind.START]
    assert events[3][0] == 56 and events[3][1].rejoins is rejoins


def test_carrying_on_is_reported_once_it_is_speech_and_never_discarded_after() -> None:
    """RESUME after barge_in_ms (96 ms: 3 chunks) of speech: a few syllables more ("please") then end the whole
    utterance, not a burst too short for one."""
    probs = [0.9] * 20 + [0.0] * 12 + [0.9] * 4 + [0.0] * 60
    events = feed_all(probs, verdicts=FINISHED_AT_22)
    assert kinds(events) == [Kind.START, Kind.PAUSE, Kind.END, Kind.START, Kind.RESUME, Kind.PAUSE, Kind.END]
    start, resume = events[3], events[4]
    assert start[1].rejoins and resume[0] - start[0] == 2 and resume[1].t_ns == start[1].t_ns


def test_a_click_in_the_gap_leaves_the_utterance_open_to_carrying_on() -> None:
    probs = [0.9] * 20 + [0.0] * 8 + [0.9] * 2 + [0.0] * 20 + [0.9] * 20 + [0.0] * 60
    events = feed_all(probs, verdicts=FINISHED_AT_22)
    assert kinds(events)[:7] == [Kind.START, Kind.PAUSE, Kind.END, Kind.START, Kind.DISCARD, Kind.START, Kind.RESUME]
    assert events[3][1].rejoins and events[5][1].rejoins


def test_rejoining_is_off_at_zero_and_after_a_cut() -> None:
    probs = [0.9] * 20 + [0.0] * 12 + [0.9] * 20 + [0.0] * 60
    events = feed_all(probs, VadConfig(rejoin_ms=0), FINISHED_AT_22)
    assert [e.rejoins for _, e in events if e.kind is Kind.START] == [False, False]
    cut = feed_all([0.9] * 80 + [0.0] * 3 + [0.9] * 20 + [0.0] * 60, VadConfig(max_utterance_s=2))
    assert cut[1][1].cut and [e.rejoins for _, e in cut if e.kind is Kind.START] == [False, False]


def test_a_carried_on_utterance_is_cut_at_the_length_of_the_whole() -> None:
    """max_utterance_s bounds what ASR is given, and a rejoined utterance begins with the one it carries on."""
    probs = [0.9] * 40 + [0.0] * 10 + [0.9] * 100
    events = feed_all(probs, VadConfig(max_utterance_s=2), {43: ("audio", 0.99)})
    assert [(i, e.kind, e.rejoins, e.cut) for i, e in events[2:6]] == [
        (43, Kind.END, False, False), (50, Kind.START, True, False), (52, Kind.RESUME, False, False),
        (62, Kind.END, False, True)]  # 2 s from chunk 0
