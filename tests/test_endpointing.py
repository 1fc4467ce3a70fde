"""Endpointing on a synthetic clock: VAD probabilities in, speech start/end/discard out."""

from __future__ import annotations

from daemon.config import VadConfig
from daemon.endpointing import Endpointer, Kind

CHUNK_NS = 32_000_000  # 512 samples at 16 kHz


def run(probs: list[float], cfg: VadConfig | None = None) -> list[tuple[Kind, int, bool]]:
    ep = Endpointer(cfg or VadConfig(), CHUNK_NS)
    out = []
    for i, p in enumerate(probs):
        e = ep.feed(p, (i + 1) * CHUNK_NS)
        if e:
            out.append((e.kind, e.t_ns, e.cut))
    return out


def test_utterance_ends_after_trailing_silence_at_last_voiced_chunk() -> None:
    probs = [0.0] * 5 + [0.9] * 20 + [0.0] * 20
    events = run(probs)
    assert events[0] == (Kind.START, 5 * CHUNK_NS, False)
    kind, t, cut = events[1]
    assert kind is Kind.END and not cut
    assert t == 25 * CHUNK_NS  # end of chunk 24, the last voiced one
    # Reported only once end_silence_ms (300 ms) of silence has passed: at chunk 25 + ceil(300/32) - 1.
    assert len(events) == 2


def test_dip_shorter_than_end_silence_does_not_split() -> None:
    probs = [0.9] * 10 + [0.1] * 5 + [0.9] * 10 + [0.0] * 15
    assert [k for k, _, _ in run(probs)] == [Kind.START, Kind.END]


def test_hysteresis_keeps_speech_between_thresholds() -> None:
    probs = [0.9] * 10 + [0.4] * 30 + [0.0] * 15  # 0.4 is above neg_threshold 0.35
    (_, _, _), (kind, t, _) = run(probs)
    assert kind is Kind.END and t == 40 * CHUNK_NS


def test_short_burst_is_discarded() -> None:
    probs = [0.9] * 3 + [0.0] * 15  # 96 ms < min_speech_ms 250
    assert [k for k, _, _ in run(probs)] == [Kind.START, Kind.DISCARD]


def test_long_utterance_is_cut() -> None:
    cfg = VadConfig(max_utterance_s=2)
    events = run([0.9] * 100, cfg)
    assert events[1][0] is Kind.END and events[1][2] is True
    assert events[1][1] - events[0][1] <= 2 * 10**9 + CHUNK_NS
