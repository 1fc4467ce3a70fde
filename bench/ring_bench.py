"""Ring benchmark: our shared-memory ring against multiprocessing.Queue and faster-fifo, between two
real processes. Throughput with 1 KiB messages, one at a time and in batches (put_many/get_many, for
the channels that have them); one-way latency of 64-byte messages sent every millisecond, with the consumer
blocked in get() (as a worker waits, so the kernel's wake-up is part of it) and with a polling consumer
(the channel alone). The latency runs take turns in rounds, so a noisy moment falls on every channel alike.

The floor row is no channel at all: the producer stores a sequence number in one shared atomic word and
the consumer spins on it. What it measures is what any channel between two processes pays on this machine
(the scheduler, a hypervisor's steal); a channel's own cost is its excess over the floor.

    python -m bench.ring_bench [--repeat N] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing as mp
import os
import struct
import time
from collections.abc import Callable
from multiprocessing import shared_memory
from typing import Any

import numpy as np

THROUGHPUT_MESSAGES = 200_000
LATENCY_MESSAGES = 6_000
LATENCY_ROUNDS = 6  # the channels take turns, so that a noisy moment of the machine falls on all of them alike
PACE_S = 0.001  # one latency message per millisecond
FLOOR = "floor: one shared word, polled"
HICCUP_NS = 5_000  # a spinning loop's turn takes < 1 µs: a longer gap is time the process did not run
BATCH = 64  # records per put_many / get_many in the batched rows
_SEQ = struct.Struct("<q")


class _RingChannel:
    """Created as the supervisor does; each side attaches in its role, as a worker does."""

    def __init__(self) -> None:
        from daemon.ring import Ring

        self.ring = Ring.create(f"kioskd-bench.{os.getpid()}.{time.monotonic_ns()}", 4 << 20)
        self.name = self.ring.name
        self.producer: Any = None

    def sender(self) -> Callable[[list[bytes]], None]:
        from daemon.ring import Ring

        ring = self.producer = Ring.attach(self.name, "producer")

        def put(batch: list[bytes]) -> None:
            if len(batch) == 1:
                while not ring.put(batch[0]):  # full: let the consumer catch up
                    os.sched_yield()
                return
            while batch:
                batch = batch[ring.put_many(batch):]
                if batch:
                    os.sched_yield()
        return put

    def receiver(self) -> Callable[[bool, int], list[bytes]]:
        from daemon.ring import Ring

        ring = Ring.attach(self.name, "consumer")

        def get(poll: bool, batch: int) -> list[bytes]:
            while True:
                if batch > 1 and (got := ring.get_many(batch)):
                    return got
                data = ring.get_nowait() if poll else ring.get(timeout=1.0)
                if data is not None:
                    return [data]
        return get

    def close(self) -> None:
        if self.producer is not None:
            self.producer.close()
        self.ring.close()
        self.ring.unlink()


class _QueueChannel:
    def __init__(self, kind: str) -> None:
        if kind == "faster-fifo":
            import faster_fifo

            self.q: Any = faster_fifo.Queue(max_size_bytes=4 << 20)
        else:
            self.q = mp.get_context("fork").Queue()

    def sender(self) -> Callable[[list[bytes]], None]:
        q = self.q

        def put(batch: list[bytes]) -> None:
            if len(batch) == 1:
                q.put(batch[0])
            else:
                q.put_many(batch)
        return put

    def receiver(self) -> Callable[[bool, int], list[bytes]]:
        q = self.q

        def get(poll: bool, batch: int) -> list[bytes]:
            if batch > 1:
                return list(q.get_many(timeout=5, max_messages_to_get=batch))
            if not poll:
                return [q.get(timeout=5)]
            while True:
                try:
                    return [q.get_nowait()]
                except Exception:  # queue.Empty and faster_fifo's own Empty
                    continue
        return get

    def close(self) -> None:
        pass


def _consume(channel: Any, n: int, poll: bool, batch: int, out: Any) -> None:
    """Stamps each record's arrival by its sequence number."""
    get = channel.receiver()
    received = np.zeros(n, np.int64)
    i = 0
    while i < n:
        got = get(poll, batch)
        now = time.monotonic_ns()
        for data in got:
            received[_SEQ.unpack_from(data)[0]] = now
        i += len(got)
    out.put(received.tolist())


def _wait_until(due: float, hot: bool) -> None:
    """The producer's wait for its next send.

    Hot (opposite a polling consumer: the channel's own latency, both sides running, as latency
    microbenchmarks measure): spin on sched_yield, which keeps the CPU busy, lets the machine's other tasks
    run rather than preempt the consumer, and releases the GIL for multiprocessing.Queue's feeder thread.
    A producer that slept instead wakes cold: its 64-byte put took ~5 µs instead of 0.6 on this VM, and
    time.sleep(0) is no yield on Linux but a ~100 µs sleep.

    Otherwise (opposite a blocked consumer, as workers live): sleep, so both sides wake for each message.
    A spinning producer there slows the consumer's wake-up (ring p50 30 -> 75 µs, with millisecond p99s)."""
    if not hot:
        time.sleep(max(0.0, due - time.perf_counter()))
    while time.perf_counter() < due:
        os.sched_yield()


def _exchange(make: Callable[[], Any], n: int, size: int, batch: int, poll: bool, pace_s: float = 0.0
              ) -> tuple[np.ndarray, np.ndarray]:
    """Send n records of `size` bytes through a fresh channel: (send stamps, arrival stamps) in ns, by
    sequence number. Paced sends are stamped just before the channel's put and arrivals just after its get
    returns, so a latency is the channel's alone: building the message is outside it, serialising it
    (multiprocessing.Queue pickles) inside. Unpaced (throughput) sends are not stamped."""
    channel = make()
    ctx = mp.get_context("fork")
    out = ctx.SimpleQueue()
    consumer = ctx.Process(target=_consume, args=(channel, n, poll, batch, out))
    consumer.start()
    time.sleep(0.3)
    put = channel.sender()
    pad = bytes(size - _SEQ.size)
    sent = np.zeros(n, np.int64)
    due = time.perf_counter()
    if batch > 1:
        for first in range(0, n, batch):
            put([_SEQ.pack(seq) + pad for seq in range(first, min(first + batch, n))])
    else:  # the harness's own work per message kept small: it is most of a fast channel's cost
        for seq in range(n):
            records = [_SEQ.pack(seq) + pad]
            if pace_s:
                due += pace_s
                _wait_until(due, hot=poll)
                sent[seq] = time.monotonic_ns()
            put(records)
    received = np.asarray(out.get())
    consumer.join()
    channel.close()
    return sent, received


def _throughput(make: Callable[[], Any], batch: int) -> float:
    """1 KiB messages per second, first arrival to last."""
    _, received = _exchange(make, THROUGHPUT_MESSAGES, 1024, batch, poll=False)
    return THROUGHPUT_MESSAGES / ((received.max() - received.min()) / 1e9)


def _latency(make: Callable[[], Any], poll: bool, n: int) -> np.ndarray:
    """One-way latencies in µs of n 64-byte messages, one every PACE_S."""
    sent, received = _exchange(make, n, 64, 1, poll, pace_s=PACE_S)
    return (received - sent) / 1000


def _spin_on_word(name: str, n: int, out: Any) -> None:
    """The floor's consumer. It also times its own loop: a gap longer than HICCUP_NS between two turns is
    time this spinning process did not run (an interrupt, the scheduler, the hypervisor's steal)."""
    import atomicshm

    shm = shared_memory.SharedMemory(name=name)
    view = atomicshm.AtomicView(shm.buf)
    received = np.zeros(n, np.int64)
    gaps: list[int] = []
    seen = 0
    start = last = time.monotonic_ns()
    while seen < n:
        if (now := time.monotonic_ns()) - last > HICCUP_NS:
            gaps.append(now - last)
        last = now
        if (seq := view.load_u64(0, atomicshm.ACQUIRE)) != seen:
            # every message up to this one has arrived by now, also those overwritten while this side was
            # not running: a stall counts here as it would in a channel
            received[seen:seq] = time.monotonic_ns()
            seen = seq
    view.close()
    shm.close()
    out.put((received.tolist(), gaps, time.monotonic_ns() - start))


def _floor_latency(hiccups: list[tuple[list[int], int]], n: int) -> np.ndarray:
    """The floor: a channel that is one shared word. The producer stores a sequence number; the consumer
    spins on it. No copy, no wake-up. Appends the consumer's (gaps, ns spun) to `hiccups`."""
    import atomicshm

    shm = shared_memory.SharedMemory(create=True, size=64)  # created zeroed
    view = atomicshm.AtomicView(shm.buf)
    ctx = mp.get_context("fork")
    out = ctx.SimpleQueue()
    consumer = ctx.Process(target=_spin_on_word, args=(shm.name, n, out))
    consumer.start()
    time.sleep(0.3)
    sent = np.zeros(n, np.int64)
    due = time.perf_counter()
    for seq in range(n):
        due += PACE_S
        _wait_until(due, hot=True)
        sent[seq] = time.monotonic_ns()
        view.store_u64(0, seq + 1, atomicshm.RELEASE)
    received, gaps, spun = out.get()
    hiccups.append((gaps, spun))
    consumer.join()
    view.close()
    shm.close()
    shm.unlink()
    return (np.asarray(received) - sent) / 1000


def run() -> dict[str, Any]:
    # (channel, batch size): latency is measured one message at a time, so only for batch 1.
    kinds: dict[str, tuple[Callable[[], Any], int]] = {
        "kioskd ring": (_RingChannel, 1),
        f"kioskd ring, batches of {BATCH}": (_RingChannel, BATCH),
        "multiprocessing.Queue": (lambda: _QueueChannel("mp"), 1),
    }
    try:
        import faster_fifo  # noqa: F401

        kinds["faster-fifo"] = (lambda: _QueueChannel("faster-fifo"), 1)
        kinds[f"faster-fifo, batches of {BATCH}"] = (lambda: _QueueChannel("faster-fifo"), BATCH)
    except ImportError:
        pass
    results: dict[str, Any] = {
        name: {"throughput_1k_msgs_per_s": round(_throughput(make, batch)), "latency_64b_blocked_us": None,
               "latency_64b_polling_us": None} for name, (make, batch) in kinds.items()}
    base = results["multiprocessing.Queue"]["throughput_1k_msgs_per_s"]
    for r in results.values():
        r["throughput_vs_mp_queue"] = round(r["throughput_1k_msgs_per_s"] / base, 1)
    results[FLOOR] = {"throughput_1k_msgs_per_s": None, "throughput_vs_mp_queue": None,
                      "latency_64b_blocked_us": None, "latency_64b_polling_us": None}

    # latency is measured one message at a time, so only for batch 1
    probes: dict[tuple[str, str], Callable[[int], np.ndarray]] = {}
    for name, (make, batch) in kinds.items():
        if batch == 1:
            probes[name, "latency_64b_blocked_us"] = functools.partial(_latency, make, False)
            probes[name, "latency_64b_polling_us"] = functools.partial(_latency, make, True)
    hiccups: list[tuple[list[int], int]] = []
    probes[FLOOR, "latency_64b_polling_us"] = functools.partial(_floor_latency, hiccups)
    samples: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in probes}
    for _ in range(LATENCY_ROUNDS):
        for key, probe in probes.items():
            samples[key].append(probe(LATENCY_MESSAGES // LATENCY_ROUNDS))
    for (name, field), parts in samples.items():
        lat = np.concatenate(parts)
        results[name][field] = {f"p{q}": round(float(np.percentile(lat, q)), 1) for q in (50, 99)}
    gaps = np.concatenate([np.asarray(g, np.float64) for g, _ in hiccups]) / 1000
    results[FLOOR]["cpu_lost_pct"] = round(float(gaps.sum()) * 1000 / sum(spun for _, spun in hiccups) * 100, 2)
    results[FLOOR]["cpu_lost_gap_p50_us"] = round(float(np.median(gaps)), 1) if len(gaps) else 0.0
    return results


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over runs (ratios are taken within each run, then their median)."""
    def med(values: list[Any]) -> Any:
        if values[0] is None:
            return None
        if isinstance(values[0], dict):
            return {k: med([v[k] for v in values]) for k in values[0]}
        return round(float(np.median(values)), 1)
    return {name: med([r[name] for r in runs]) for name in runs[0]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", help="write the figures here too")
    p.add_argument("--repeat", type=int, default=1, help="run N times and report each figure's median "
                   "(a VM's noise moves p99s by several times from one run to the next)")
    args = p.parse_args()
    runs = [run() for _ in range(args.repeat)]
    results = _median(runs)
    print(f"{'channel':30} {'1 KiB msgs/s':>13} {'× mp.Queue':>10} {'64 B blocked p50/p99 µs':>24} "
          f"{'64 B polling p50/p99 µs':>24}")
    for name, r in results.items():
        lat = [f"{x['p50']:>11} / {x['p99']:<10}" if x else f"{'-':>24}"
               for x in (r["latency_64b_blocked_us"], r["latency_64b_polling_us"])]
        rate, ratio = r["throughput_1k_msgs_per_s"], r["throughput_vs_mp_queue"]
        print(f"{name:30} {f'{rate:,.0f}' if rate else '-':>13} {ratio or '-':>10} {lat[0]} {lat[1]}")
    floor = results[FLOOR]
    print(f"\nThe floor's spinning consumer was off the CPU {floor['cpu_lost_pct']} % of the time, in gaps of "
          f"p50 {floor['cpu_lost_gap_p50_us']} µs (interrupts, the scheduler, a hypervisor's steal). A message "
          "that lands in a gap waits it out, in any channel: above ~1 %, the gaps set the polling p99s.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine_cpus": os.cpu_count(), **results, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
