"""The ring benchmark, run small: every channel between real processes delivers every message, the figures
are sane, and the ring is clearly ahead of multiprocessing.Queue (10-17x at full size; asserted loosely)."""

from __future__ import annotations

import pytest

from bench import ring_bench


@pytest.fixture(scope="module")
def figures() -> dict:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ring_bench, "THROUGHPUT_MESSAGES", 20_000)
        mp.setattr(ring_bench, "LATENCY_MESSAGES", 400)
        mp.setattr(ring_bench, "LATENCY_ROUNDS", 2)
        return ring_bench.run()


def test_every_channel_has_its_figures(figures: dict) -> None:
    for name, row in figures.items():
        if name == ring_bench.FLOOR:
            assert row["throughput_1k_msgs_per_s"] is None
            assert row["latency_64b_blocked_us"] is None
        else:
            assert row["throughput_1k_msgs_per_s"] > 0
        for lat in (row["latency_64b_blocked_us"], row["latency_64b_polling_us"]):
            if lat is not None:  # one-way latencies between two clocks of one machine: never negative
                assert 0 < lat["p50"] <= lat["p99"] < 1e6, name
    floor = figures[ring_bench.FLOOR]
    assert 0 <= floor["cpu_lost_pct"] < 100


def test_ring_is_ahead_of_multiprocessing_queue(figures: dict) -> None:
    ring, queue = figures["kioskd ring"], figures["multiprocessing.Queue"]
    assert ring["throughput_vs_mp_queue"] >= 3
    assert figures[f"kioskd ring, batches of {ring_bench.BATCH}"]["throughput_1k_msgs_per_s"] > \
        ring["throughput_1k_msgs_per_s"]
    assert ring["latency_64b_polling_us"]["p50"] < queue["latency_64b_polling_us"]["p50"] / 3
