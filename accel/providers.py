"""Execution providers for onnxruntime: pick the first available of the configured list (CPU is the default)."""

from __future__ import annotations

import onnxruntime as ort

DEFAULT_ORDER = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CANNExecutionProvider", "CPUExecutionProvider")


def session(path: str, threads: int = 1, order: tuple[str, ...] = ("CPUExecutionProvider",)) -> ort.InferenceSession:
    """An InferenceSession on the first provider of `order` that this onnxruntime build offers."""
    available = set(ort.get_available_providers())
    chosen = [p for p in order if p in available] or ["CPUExecutionProvider"]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(path, sess_options=opts, providers=chosen[:1])
