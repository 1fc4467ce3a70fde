"""Endpointing on a synthetic clock: VAD probabilities in, speech start/pause/end/discard out, with the
speculative transcript's verdict shortening or stretching the trailing silence."""

from __future__ import annotations

from daemon.config import VadConfig
from daemon.endpointing import Endpointer, Kind

CHUNK_NS = 32_000_000  # 512 samples at 16 kHz


def run(probs: list[float], cfg: VadConfig | None = None, verdict: dict[int, bool] | None = None
        ) -> list[tuple[Kind, int, bool]]:
    """Feed probabilities chunk by chunk; `verdict` maps a chunk index to a pace() call before it."""
    ep = Endpointer(cfg or VadConfig(), CHUNK_NS)
    out = []
    for i, p in enumerate(probs):
        if verdict and i in verdict:
            ep.pace(verdict[i])
        e = ep.feed(p, (i + 1) * CHUNK_NS)
        if e:
            out.append((e.kind, e.t_ns, e.cut))
    return out


def kinds(events: list[tuple[Kind, int, bool]]) -> list[Kind]:
    return [k for k, _, _ in events]


def test_without_a_verdict_the_utterance_ends_after_end_silence() -> None:
    events = run([0.0] * 5 + [0.9] * 20 + [0.0] * 30)
    assert kinds(events) == [Kind.START, Kind.PAUSE, Kind.END]
    assert events[0][1] == 5 * CHUNK_NS
    assert events[1][1] == events[2][1] == 25 * CHUNK_NS  # both at the last voiced chunk's end


def _decision_chunk(probs: list[float], verdict: dict[int, bool] | None) -> int:
    ep = Endpointer(VadConfig(), CHUNK_NS)
    for i, p in enumerate(probs):
        if verdict and i in verdict:
            ep.pace(verdict[i])
        e = ep.feed(p, (i + 1) * CHUNK_NS)
        if e and e.kind is Kind.END:
            return i
    raise AssertionError("no END")


def test_a_finished_sounding_pause_ends_at_once_and_a_hesitation_waits() -> None:
    probs = [0.9] * 20 + [0.0] * 60
    plain = _decision_chunk(probs, None)
    finished = _decision_chunk(probs, {27: True})  # verdict arrives ~250 ms into the silence
    hesitant = _decision_chunk(probs, {27: False})
    assert finished == 27 < plain < hesitant
    assert (plain - 19) * 32 >= 500 and (hesitant - 19) * 32 >= 1000


def test_speech_after_a_pause_voids_the_speculation() -> None:
    probs = [0.9] * 10 + [0.0] * 7 + [0.9] * 10 + [0.0] * 40
    events = run(probs, verdict={17: True})  # the verdict is about the first pause only
    assert kinds(events) == [Kind.START, Kind.PAUSE, Kind.PAUSE, Kind.END]
    assert events[-1][1] == 27 * CHUNK_NS  # the end is after the second stretch of speech


def test_dip_shorter_than_the_pause_does_not_speculate() -> None:
    probs = [0.9] * 10 + [0.1] * 3 + [0.9] * 10 + [0.0] * 40
    assert kinds(run(probs)) == [Kind.START, Kind.PAUSE, Kind.END]


def test_hysteresis_keeps_speech_between_thresholds() -> None:
    probs = [0.9] * 10 + [0.4] * 30 + [0.0] * 30  # 0.4 is above neg_threshold 0.35
    events = run(probs)
    assert events[-1][0] is Kind.END and events[-1][1] == 40 * CHUNK_NS


def test_short_burst_is_discarded_without_speculation() -> None:
    probs = [0.9] * 3 + [0.0] * 30  # 96 ms < min_speech_ms 250
    assert kinds(run(probs)) == [Kind.START, Kind.DISCARD]


def test_long_utterance_is_cut() -> None:
    cfg = VadConfig(max_utterance_s=2)
    events = run([0.9] * 100, cfg)
    assert events[1][0] is Kind.END and events[1][2] is True
    assert events[1][1] - events[0][1] <= 2 * 10**9 + CHUNK_NS


def test_speculation_off() -> None:
    cfg = VadConfig(speculate_ms=0)
    assert kinds(run([0.9] * 20 + [0.0] * 30, cfg)) == [Kind.START, Kind.END]
