"""Execution providers for onnxruntime: pick the first available of the configured list (CPU is the default).

On the CPU, a session can keep its optimised graph on disk: loading the saved result is several times
faster than optimising again, and optimising is most of a voice worker's restart.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime as ort

DEFAULT_ORDER = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CANNExecutionProvider", "CPUExecutionProvider")
CPU = "CPUExecutionProvider"


def session(source: str | bytes, threads: int = 1, order: tuple[str, ...] = (CPU,), optimised: Path | None = None,
            lean: bool = False) -> ort.InferenceSession:
    """An InferenceSession on the first provider of `order` that this onnxruntime build offers.

    threads: intra-op threads (0: onnxruntime's default). optimised: where this model's optimised graph
    is cached (CPU only: it may use this CPU's instructions, so the caller's key must name the machine).
    lean: no memory arena or memory patterns, which otherwise keep the high-water mark of the largest
    input ever seen.
    """
    import onnxruntime as ort  # here, not at the top: importing it starts a thread, and workers fork from a
    # single-threaded zygote (daemon/zygote_preload.py)

    available = set(ort.get_available_providers())
    providers = [p for p in order if p in available][:1] or [CPU]
    if optimised is None or providers != [CPU]:
        return _create(source, providers, threads, lean)
    if optimised.is_file():
        try:
            return _create(str(optimised), providers, threads, lean, optimise=False)
        except Exception:  # onnxruntime raises many unrelated types; rebuild the entry
            optimised.unlink(missing_ok=True)
    tmp = optimised.with_name(f"{optimised.stem}.{os.getpid()}.tmp.onnx")
    try:
        made = _create(source, providers, threads, lean, save=tmp)
        tmp.replace(optimised)
        return made
    except Exception:  # an unwritable cache; a broken model fails again below, with its own error
        tmp.unlink(missing_ok=True)
    return _create(source, providers, threads, lean)


def _create(source: str | bytes, providers: list[str], threads: int, lean: bool, optimise: bool = True,
            save: Path | None = None) -> ort.InferenceSession:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # saving a graph warns that it is machine-specific; the cache key says so
    if not optimise:  # an already optimised graph from the cache
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if lean:
        opts.enable_cpu_mem_arena = False
        opts.enable_mem_pattern = False
    if save is not None:
        opts.optimized_model_filepath = str(save)
    return ort.InferenceSession(source, sess_options=opts, providers=providers)
