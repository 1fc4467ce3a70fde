"""Ring benchmark: our shared-memory ring against multiprocessing.Queue and faster-fifo, between two
real processes. Throughput with 1 KiB messages, one at a time and in batches (put_many/get_many, for
the channels that have them); one-way latency of 64-byte messages sent every millisecond (the consumer
blocked in get(), as a worker waits, so the kernel's wake-up is part of it) and with a polling consumer
(the channel alone).

The floor row is no channel at all: the producer stores its timestamp in one shared atomic word and the
consumer spins on it. What it measures is what any channel between two processes pays on this machine
(the scheduler, a hypervisor's steal); a channel's own cost is its excess over the floor.

    python -m bench.ring_bench [--repeat N] [--json OUT.json]
"""

from __future__ import annotations

import argparse
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
LATENCY_MESSAGES = 3_000
BATCH = 64  # records per put_many / get_many in the batched rows
_TS = struct.Struct("<q")


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
                while not ring.put(batch[0]):
                    time.sleep(0)
                return
            while batch:
                batch = batch[ring.put_many(batch):]
                if batch:
                    time.sleep(0)
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
    get = channel.receiver()
    lat = np.empty(n, np.int64)
    first = 0
    i = 0
    while i < n:
        got = get(poll, batch)
        now = time.monotonic_ns()
        if i == 0:
            first = now
        for data in got:
            lat[i] = now - _TS.unpack_from(data)[0]
            i += 1
    out.put((time.monotonic_ns() - first, lat.tolist()))


def _spin_until(due: float) -> None:
    """Spin to the next send time rather than sleep: a sleeping producer's CPU idles, and on a VM the
    first instructions after waking run cold, which is the host's cost, not the channel's. sleep(0)
    yields the GIL, which multiprocessing.Queue's feeder thread needs."""
    while time.perf_counter() < due:
        time.sleep(0)


def _run(make: Callable[[], Any], n: int, size: int, pace_s: float, poll: bool, batch: int = 1
         ) -> tuple[float, np.ndarray]:
    channel = make()
    ctx = mp.get_context("fork")
    out = ctx.SimpleQueue()
    consumer = ctx.Process(target=_consume, args=(channel, n, poll, batch, out))
    consumer.start()
    time.sleep(0.3)
    put = channel.sender()
    pad = bytes(size - _TS.size)
    due = time.perf_counter()
    for _ in range(n // batch):
        if pace_s:
            due += pace_s
            _spin_until(due)
        put([_TS.pack(time.monotonic_ns()) + pad for _ in range(batch)])
    elapsed_ns, lat = out.get()
    consumer.join()
    channel.close()
    return n / (elapsed_ns / 1e9), np.asarray(lat) / 1000


def _spin_on_word(name: str, n: int, out: Any) -> None:
    import atomicshm

    shm = shared_memory.SharedMemory(name=name)
    view = atomicshm.AtomicView(shm.buf)
    lat: list[int] = []
    seen = 0
    while seen < n:  # a value overwritten before this side saw it is simply not counted
        if (seq := view.load_u64(8, atomicshm.ACQUIRE)) != seen:
            now = time.monotonic_ns()
            ts = view.load_u64(0, atomicshm.ACQUIRE)
            if view.load_u64(8, atomicshm.ACQUIRE) == seq:  # not overwritten while we read it
                lat.append(now - ts)
            seen = seq
    view.close()
    shm.close()
    out.put(lat)


def _floor_latency(n: int, pace_s: float) -> np.ndarray:
    """The floor: the producer stores a timestamp, then a sequence number, in shared words; the
    consumer spins on the sequence number. No channel, no copy, no wake-up."""
    import atomicshm

    shm = shared_memory.SharedMemory(create=True, size=64)  # created zeroed
    view = atomicshm.AtomicView(shm.buf)
    ctx = mp.get_context("fork")
    out = ctx.SimpleQueue()
    consumer = ctx.Process(target=_spin_on_word, args=(shm.name, n, out))
    consumer.start()
    time.sleep(0.3)
    due = time.perf_counter()
    for seq in range(1, n + 1):
        due += pace_s
        _spin_until(due)
        view.store_u64(0, time.monotonic_ns(), atomicshm.RELEASE)
        view.store_u64(8, seq, atomicshm.RELEASE)
    lat = out.get()
    consumer.join()
    view.close()
    shm.close()
    shm.unlink()
    return np.asarray(lat) / 1000


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
    results: dict[str, Any] = {}
    for name, (make, batch) in kinds.items():
        rate, _ = _run(make, THROUGHPUT_MESSAGES, 1024, 0.0, poll=False, batch=batch)
        results[name] = {"throughput_1k_msgs_per_s": round(rate), "latency_64b_blocked_us": None,
                         "latency_64b_polling_us": None}
        if batch == 1:
            _, blocked = _run(make, LATENCY_MESSAGES, 64, 0.001, poll=False)
            _, polled = _run(make, LATENCY_MESSAGES, 64, 0.001, poll=True)
            results[name]["latency_64b_blocked_us"] = {f"p{q}": round(float(np.percentile(blocked, q)), 1)
                                                       for q in (50, 99)}
            results[name]["latency_64b_polling_us"] = {f"p{q}": round(float(np.percentile(polled, q)), 1)
                                                       for q in (50, 99)}
    base = results["multiprocessing.Queue"]["throughput_1k_msgs_per_s"]
    for r in results.values():
        r["throughput_vs_mp_queue"] = round(r["throughput_1k_msgs_per_s"] / base, 1)
    floor = _floor_latency(LATENCY_MESSAGES, 0.001)
    results["floor: one shared word, polled"] = {
        "throughput_1k_msgs_per_s": None, "throughput_vs_mp_queue": None, "latency_64b_blocked_us": None,
        "latency_64b_polling_us": {f"p{q}": round(float(np.percentile(floor, q)), 1) for q in (50, 99)}}
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
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine_cpus": os.cpu_count(), **results, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
