"""The vocabulary of `accel.order`: the backends a model can run on, and the runtime each model runs in."""

from __future__ import annotations

from typing import Literal

Backend = Literal["tensorrt", "cuda", "cann", "cpu"]
DEFAULT_ORDER: tuple[Backend, ...] = ("tensorrt", "cuda", "cann", "cpu")

Runtime = Literal["onnxruntime", "ctranslate2", "llama.cpp"]
# Every model kioskd runs, by the name `accel.models.NAME` gives it.
MODELS: dict[str, Runtime] = {
    "vad": "onnxruntime",
    "turn_end": "onnxruntime",
    "voice": "onnxruntime",
    "face_driver": "onnxruntime",
    "asr": "ctranslate2",
    "llm": "llama.cpp",
}

# onnxruntime's execution provider for each backend.
EXECUTION_PROVIDER: dict[Backend, str] = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cann": "CANNExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
