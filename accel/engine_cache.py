"""Where a TensorRT engine for an ONNX model is kept, under a key naming everything the engine depends on.

An engine is built for one GPU architecture by one TensorRT, through one onnxruntime, at one precision,
for the input shapes it was given, from one model: change any and the engine is wrong (at best refused,
at worst slow), so each is part of the folder's name and a change simply finds an empty folder.
Building an engine takes seconds to minutes; loading one from here takes milliseconds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from accel import probe
from accel.settings import AccelSettings

Shapes = Mapping[str, Sequence[int | str]]  # input name -> dimensions (a name for a dynamic one)


def engine_cache_key(gpu_name: str, compute_capability: str, tensorrt: str, onnxruntime: str, precision: str,
                     shapes: Shapes, model_sha256: str) -> str:
    """A folder name that changes whenever any of the engine's inputs does, and only then."""
    fields = {"gpu": gpu_name, "cc": compute_capability, "tensorrt": tensorrt, "onnxruntime": onnxruntime,
              "precision": precision, "shapes": {k: [str(d) for d in v] for k, v in shapes.items()},
              "model": model_sha256}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


def model_facts(source: str | bytes) -> tuple[str, dict[str, list[int | str]]]:
    """The model's sha256 and its inputs' shapes, read from the graph without loading its weights twice."""
    import onnx

    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    graph = onnx.load_from_string(data).graph
    initialisers = {i.name for i in graph.initializer}  # old exports list weights among the inputs
    shapes: dict[str, list[int | str]] = {
        i.name: [d.dim_value if d.HasField("dim_value") else d.dim_param for d in i.type.tensor_type.shape.dim]
        for i in graph.input if i.name not in initialisers}
    return hashlib.sha256(data).hexdigest(), shapes


def current_key(source: str | bytes, settings: AccelSettings) -> str | None:
    """The key for `source` on this machine's configured GPU; None when there is no GPU or TensorRT to key by."""
    gpus, trt = probe.cuda_devices().value, probe.tensorrt_version().value
    if len(gpus) <= settings.device_id or not trt:
        return None
    import onnxruntime

    gpu = gpus[settings.device_id]
    sha, shapes = model_facts(source)
    return engine_cache_key(gpu.name, gpu.compute_capability, trt, onnxruntime.__version__,
                            settings.tensorrt_precision, shapes, sha)


def engine_folder(source: str | bytes, settings: AccelSettings) -> Path | None:
    """This model's engine folder (None: no engine cache configured, or nothing to key it by)."""
    if settings.engine_cache is None:
        return None
    key = current_key(source, settings)
    return settings.engine_cache / key if key else None


def has_engine(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.engine"))
