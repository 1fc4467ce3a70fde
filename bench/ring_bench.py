"""Ring benchmark: our shared-memory ring against multiprocessing.Queue and faster-fifo, between two
real processes. Throughput with 1 KiB messages; one-way latency of 64-byte messages sent every
millisecond (the consumer blocked in get(), as a worker waits) and with a polling consumer.

    python -m bench.ring_bench [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import struct
import time
from collections.abc import Callable
from typing import Any

import numpy as np

THROUGHPUT_MESSAGES = 200_000
LATENCY_MESSAGES = 3_000
_TS = struct.Struct("<q")


class _RingChannel:
    def __init__(self) -> None:
        from daemon.ring import Ring

        self.ring = Ring.create(f"kioskd-bench.{os.getpid()}.{time.monotonic_ns()}", 4 << 20)
        self.name = self.ring.name

    def sender(self) -> Callable[[bytes], None]:
        ring = self.ring

        def put(data: bytes) -> None:
            while not ring.put(data):
                time.sleep(0)
        return put

    def receiver(self) -> Callable[[bool], bytes]:
        from daemon.ring import Ring

        ring = Ring.attach(self.name)

        def get(poll: bool) -> bytes:
            while True:
                data = ring.get_nowait() if poll else ring.get(timeout=1.0)
                if data is not None:
                    return data
        return get

    def close(self) -> None:
        self.ring.close()
        self.ring.unlink()


class _QueueChannel:
    def __init__(self, kind: str) -> None:
        if kind == "faster-fifo":
            import faster_fifo

            self.q: Any = faster_fifo.Queue(max_size_bytes=4 << 20)
        else:
            self.q = mp.get_context("fork").Queue()
        self.kind = kind

    def sender(self) -> Callable[[bytes], None]:
        return self.q.put

    def receiver(self) -> Callable[[bool], bytes]:
        q = self.q

        def get(poll: bool) -> bytes:
            if not poll:
                return q.get(timeout=5)
            while True:
                try:
                    return q.get_nowait()
                except Exception:  # queue.Empty and faster_fifo's own Empty
                    continue
        return get

    def close(self) -> None:
        pass


def _consume(channel: Any, n: int, poll: bool, out: Any) -> None:
    get = channel.receiver()
    lat = np.empty(n, np.int64)
    first = 0
    for i in range(n):
        data = get(poll)
        now = time.monotonic_ns()
        if i == 0:
            first = now
        lat[i] = now - _TS.unpack_from(data)[0]
    out.put((time.monotonic_ns() - first, lat.tolist()))


def _run(make: Callable[[], Any], n: int, size: int, pace_s: float, poll: bool) -> tuple[float, np.ndarray]:
    channel = make()
    ctx = mp.get_context("fork")
    out = ctx.SimpleQueue()
    consumer = ctx.Process(target=_consume, args=(channel, n, poll, out))
    consumer.start()
    time.sleep(0.3)
    put = channel.sender()
    pad = bytes(size - _TS.size)
    for _ in range(n):
        put(_TS.pack(time.monotonic_ns()) + pad)
        if pace_s:
            time.sleep(pace_s)
    elapsed_ns, lat = out.get()
    consumer.join()
    channel.close()
    return n / (elapsed_ns / 1e9), np.asarray(lat) / 1000


def run() -> dict[str, Any]:
    kinds: dict[str, Callable[[], Any]] = {
        "kioskd ring": _RingChannel,
        "multiprocessing.Queue": lambda: _QueueChannel("mp"),
    }
    try:
        import faster_fifo  # noqa: F401

        kinds["faster-fifo"] = lambda: _QueueChannel("faster-fifo")
    except ImportError:
        pass
    results: dict[str, Any] = {}
    for name, make in kinds.items():
        rate, _ = _run(make, THROUGHPUT_MESSAGES, 1024, 0.0, poll=False)
        _, blocked = _run(make, LATENCY_MESSAGES, 64, 0.001, poll=False)
        _, polled = _run(make, LATENCY_MESSAGES, 64, 0.001, poll=True)
        results[name] = {
            "throughput_1k_msgs_per_s": round(rate),
            "latency_64b_blocked_us": {f"p{q}": round(float(np.percentile(blocked, q)), 1) for q in (50, 99)},
            "latency_64b_polling_us": {f"p{q}": round(float(np.percentile(polled, q)), 1) for q in (50, 99)},
        }
    base = results["multiprocessing.Queue"]["throughput_1k_msgs_per_s"]
    for r in results.values():
        r["throughput_vs_mp_queue"] = round(r["throughput_1k_msgs_per_s"] / base, 1)
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", help="write the figures here too")
    args = p.parse_args()
    results = run()
    print(f"{'channel':24} {'1 KiB msgs/s':>13} {'× mp.Queue':>10} {'64 B blocked p50/p99 µs':>24} "
          f"{'64 B polling p50/p99 µs':>24}")
    for name, r in results.items():
        b, q = r["latency_64b_blocked_us"], r["latency_64b_polling_us"]
        print(f"{name:24} {r['throughput_1k_msgs_per_s']:>13,} {r['throughput_vs_mp_queue']:>10} "
              f"{b['p50']:>11} / {b['p99']:<10} {q['p50']:>11} / {q['p99']:<10}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine_cpus": os.cpu_count(), **results}, f, indent=1)


if __name__ == "__main__":
    main()
