"""Worker lifecycle on a synthetic clock: back-off doubling and reset, FATAL after fast failures, hangs."""

from __future__ import annotations

from daemon.lifecycle import BACKOFF_MAX_S, FATAL_AFTER, HANG_S, HEALTHY_S, Lifecycle, State


def test_crash_backs_off_then_restarts() -> None:
    w = Lifecycle("asr")
    w.spawned(0.0)
    w.ready(2.0)
    w.exited(10.0, "exit code -9")
    assert w.state is State.BACKOFF and w.reason == "exit code -9"
    assert not w.due(10.4)
    assert w.due(10.5) and w.restarts == 1
    w.spawned(10.5)
    assert w.state is State.STARTING


def test_backoff_doubles_to_a_cap_and_fast_failures_become_fatal() -> None:
    w = Lifecycle("voice")
    now = 0.0
    delays = []
    for _ in range(FATAL_AFTER):
        w.spawned(now)
        now += 1.0
        w.exited(now, "exit code 1")
        if w.state is State.FATAL:
            break
        assert w.restart_at is not None
        delays.append(w.restart_at - now)
        now = w.restart_at
        assert w.due(now)
    assert delays == [0.5, 1.0, 2.0, 4.0][: len(delays)]
    assert w.state is State.FATAL and "gave up after" in w.reason
    assert not w.due(now + 1000)


def test_backoff_is_capped() -> None:
    w = Lifecycle("face")
    w.backoff_s = BACKOFF_MAX_S
    w.spawned(0)
    w.exited(1, "x")
    assert w.restart_at == 1 + BACKOFF_MAX_S


def test_a_healthy_run_resets_the_backoff() -> None:
    w = Lifecycle("brain")
    w.spawned(0)
    w.exited(1, "x")
    w.exited(2, "x")
    assert w.fast_failures == 2 and w.backoff_s == 2.0
    w.spawned(10)
    w.ready(11)
    w.exited(11 + HEALTHY_S, "x")
    assert w.fast_failures == 0 and w.restart_at == 11 + HEALTHY_S + 0.5


def test_silence_is_a_hang_only_while_running() -> None:
    w = Lifecycle("ear")
    w.spawned(0)
    assert not w.hung(100)  # loading models sends no heartbeats: the ready timeout covers it
    w.ready(5)
    w.beat(6)
    assert not w.hung(6 + HANG_S)
    assert w.hung(6 + HANG_S + 0.01)


def test_a_hang_backs_off_from_its_last_heartbeat() -> None:
    w = Lifecycle("asr")
    waits = []
    t = 0.0
    for _ in range(3):
        w.spawned(t)
        w.ready(t + 1)
        w.beat(t + 2)
        t = t + 2 + HANG_S + 0.1  # the supervisor sees the silence and kills
        w.exited(t, "hung", hung=True)
        waits.append(w.restart_at - t)
    assert waits == [0, 0, 0]  # 0.5, 1 and 2 s of back-off were spent in the silence
    w.spawned(t)
    w.ready(t + 1)
    w.beat(t + 2)
    w.exited(t + 2.5, "crash")  # a crash counts from the exit: the fourth back-off, 4 s
    assert w.restart_at == t + 2.5 + 4
