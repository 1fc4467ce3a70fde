"""onnxruntime sessions on the backend chosen for their model (accel/selection.py); CPU when none is given.

On the CPU, a session can keep its optimised graph on disk: loading the saved result is several times
faster than optimising again, and optimising is most of a voice worker's restart. On TensorRT the engine
is kept instead (accel/engine_cache.py); CUDA and CANN compile nothing worth keeping.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from accel.backends import EXECUTION_PROVIDER
from accel.engine_cache import engine_folder
from accel.selection import Choice

if TYPE_CHECKING:
    import onnxruntime as ort

CPU = EXECUTION_PROVIDER["cpu"]
Provider = str | tuple[str, dict[str, object]]
log = logging.getLogger("kioskd.accel")


def session(source: str | bytes, threads: int = 1, choice: Choice | None = None, optimised: Path | None = None,
            lean: bool = False) -> ort.InferenceSession:
    """An InferenceSession on `choice`'s backend (None: the CPU); AccelUnavailable when it has none.

    threads: intra-op threads (0: onnxruntime's default). optimised: where this model's optimised graph
    is cached (CPU only: it may use this CPU's instructions, so the caller's key must name the machine).
    lean: no memory arena or memory patterns, which otherwise keep the high-water mark of the largest
    input ever seen.
    """
    if choice is not None and choice.require() != "cpu":
        made = _create(source, _accelerated(choice, source), threads, lean)
        wanted = EXECUTION_PROVIDER[choice.require()]
        if made.get_providers()[0] != wanted:  # onnxruntime falls back quietly when the provider's libraries fail
            log.warning("%s: %s did not load, running on %s (onnxruntime's log says why)", choice.model, wanted,
                        made.get_providers()[0])
        return made
    providers: list[Provider] = [CPU]
    if optimised is None:
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


def _accelerated(choice: Choice, source: str | bytes) -> list[Provider]:
    """onnxruntime's provider list for an accelerator, with its options; the CPU last, for what it cannot run."""
    backend, s = choice.require(), choice.settings
    cuda: Provider = (EXECUTION_PROVIDER["cuda"], {"device_id": s.device_id})
    if backend == "cuda":
        return [cuda, CPU]
    if backend == "cann":
        options: dict[str, object] = {"device_id": s.device_id, **{k: v for k, v in vars(s.cann).items() if v is not None}}
        return [(EXECUTION_PROVIDER["cann"], options), CPU]
    # int8 quantises only what the model's QDQ nodes say; the rest runs in fp16, not fp32
    trt: dict[str, object] = {"device_id": s.device_id, "trt_fp16_enable": s.tensorrt_precision in ("fp16", "int8"),
                              "trt_int8_enable": s.tensorrt_precision == "int8"}
    folder = engine_folder(source, s)
    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            trt |= {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(folder)}
    except OSError as exc:  # as with the other caches: slower starts, never a kiosk that cannot start
        log.warning("%s: no TensorRT engine cache (%s): the engine is built at every start", choice.model, exc)
    # What TensorRT cannot build runs on CUDA rather than the CPU.
    return [(EXECUTION_PROVIDER["tensorrt"], trt), cuda, CPU]


def _create(source: str | bytes, providers: list[Provider], threads: int, lean: bool, optimise: bool = True,
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
