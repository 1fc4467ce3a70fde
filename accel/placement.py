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
    """The GPU counterpart of a CPU compute type: int8 weights keep int8 with float16 arithmetic (else float16,
    else int8 with float32 on a GPU without fast float16), the rest float16; float32 when the GPU has none of them."""
    wanted = ("int8_float16", "float16", "int8_float32") if cpu_type.startswith("int8") else ("float16",)
    return next((t for t in wanted if t in supported), "float32")


def llama_gpu_layers(choice: Choice | None) -> int:
    """llama.cpp's n_gpu_layers: the configured number on a GPU or NPU, none on the CPU."""
    if choice is None or choice.require() == "cpu":
        return 0
    return choice.settings.llm_gpu_layers
