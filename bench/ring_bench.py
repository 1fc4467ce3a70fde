"""Ring benchmark: our shared-memory ring against multiprocessing.Queue and faster-fifo, between two
real processes. Throughput with 1 KiB messages, one at a time and in batches (put_many/get_many, for
the channels that have them); one-way latency of 64-byte messages sent every millisecond (the consumer
blocked in get(), as a worker waits, so the kernel's wake-up is part of it) and with a polling consumer
(the channel alone).

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
BATCH = 64  # records per put_many / get_many in the batched rows
_TS = struct.Struct("<q")


class _RingChannel:
    def __init__(self) -> None:
        from daemon.ring import Ring

        self.ring = Ring.create(f"kioskd-bench.{os.getpid()}.{time.monotonic_ns()}", 4 << 20)
        self.name = self.ring.name

    def sender(self) -> Callable[[list[bytes]], None]:
        ring = self.ring

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

        ring = Ring.attach(self.name)

        def get(poll: bool, batch: int) -> list[bytes]:
            while True:
                if batch > 1 and (got := ring.get_many(batch)):
                    return got
                data = ring.get_nowait() if poll else ring.get(timeout=1.0)
                if data is not None:
                    return [data]
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
            # Spin to the next send time rather than sleep: a sleeping producer's CPU idles, and on a VM
            # the first instructions after waking run cold, which is the host's cost, not the channel's.
            # sleep(0) yields the GIL, which multiprocessing.Queue's feeder thread needs.
            due += pace_s
            while time.perf_counter() < due:
                time.sleep(0)
        put([_TS.pack(time.monotonic_ns()) + pad for _ in range(batch)])
    elapsed_ns, lat = out.get()
    consumer.join()
    channel.close()
    return n / (elapsed_ns / 1e9), np.asarray(lat) / 1000


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
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", help="write the figures here too")
    args = p.parse_args()
    results = run()
    print(f"{'channel':30} {'1 KiB msgs/s':>13} {'× mp.Queue':>10} {'64 B blocked p50/p99 µs':>24} "
          f"{'64 B polling p50/p99 µs':>24}")
    for name, r in results.items():
        lat = [f"{x['p50']:>11} / {x['p99']:<10}" if x else f"{'-':>24}"
               for x in (r["latency_64b_blocked_us"], r["latency_64b_polling_us"])]
        print(f"{name:30} {r['throughput_1k_msgs_per_s']:>13,} {r['throughput_vs_mp_queue']:>10} {lat[0]} {lat[1]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine_cpus": os.cpu_count(), **results}, f, indent=1)


if __name__ == "__main__":
    main()
