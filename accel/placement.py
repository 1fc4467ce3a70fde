"""How a chosen backend is spelled to CTranslate2 (faster-whisper) and llama.cpp; onnxruntime's is accel/providers.py."""

from __future__ import annotations

from collections.abc import Collection

from accel.selection import Choice


def whisper_device(choice: Choice | None, compute_type: str) -> tuple[str, int, str]:
    """faster-whisper's (device, device_index, compute_type): `compute_type` as configured on the CPU (or with no
    choice), its GPU counterpart on CUDA."""
    if choice is None or choice.require() == "cpu":
        return "cpu", 0, compute_type
    import ctranslate2

    index = choice.settings.device_id
    return "cuda", index, cuda_compute_type(compute_type, ctranslate2.get_supported_compute_types("cuda", index))


def cuda_compute_type(cpu_type: str, supported: Collection[str]) -> str:
    """The GPU counterpart of a CPU compute type: int8 weights keep int8 with float16 arithmetic, the rest float16
    (float32 on a GPU that has neither)."""
    wanted = "int8_float16" if cpu_type.startswith("int8") else "float16"
    return wanted if wanted in supported else "float32"


def llama_gpu_layers(choice: Choice | None) -> int:
    """llama.cpp's n_gpu_layers: the configured number on a GPU or NPU, none on the CPU."""
    if choice is None or choice.require() == "cpu":
        return 0
    return choice.settings.llm_gpu_layers
