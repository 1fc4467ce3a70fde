"""Which backend each model runs on: the first usable one of its configured order, and why the others were not.

A backend is usable when the model's runtime was built for it and the device is there (accel/probe.py
asks); a backend the runtime has no support for at all (TensorRT for CTranslate2) is skipped with that
said. Nothing here loads a model.
"""

from __future__ import annotations

from dataclasses import dataclass

from accel import probe
from accel.backends import EXECUTION_PROVIDER, MODELS, Backend, Runtime
from accel.settings import AccelSettings

_NAMES = {"tensorrt": "TensorRT", "cann": "CANN"}  # as their makers spell them, in sentences


class AccelUnavailable(RuntimeError):
    """No backend of a model's configured order is usable here; the message names the config key and why."""


@dataclass(frozen=True)
class Choice:
    model: str
    backend: Backend | None  # None: nothing in its order is usable
    why: str  # why this backend, or why none
    skipped: tuple[tuple[Backend, str], ...]  # the backends before it in the order, each with its reason
    settings: AccelSettings

    def require(self) -> Backend:
        """The chosen backend; AccelUnavailable when there is none, for a model that must load now."""
        if self.backend is None:
            raise AccelUnavailable(self.why)
        return self.backend


def choose(model: str, settings: AccelSettings) -> Choice:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r} (known: {', '.join(MODELS)})")
    order, key = settings.order_for(model)
    skipped: list[tuple[Backend, str]] = []
    for backend in order:
        usable, detail = _check(MODELS[model], backend, settings)
        if usable:
            return Choice(model, backend, f"first usable of {key} [{', '.join(order)}]: {detail}", tuple(skipped),
                          settings)
        skipped.append((backend, detail))
    reasons = "; ".join(f"{b}: {why}" for b, why in skipped)
    return Choice(model, None, f"{key}: none of [{', '.join(order)}] is usable for {model} ({reasons})",
                  tuple(skipped), settings)


def _check(runtime: Runtime, backend: Backend, settings: AccelSettings) -> tuple[bool, str]:
    """(True, what it will run on) or (False, why not)."""
    if backend == "cpu":
        return True, {"onnxruntime": "CPUExecutionProvider", "ctranslate2": "CTranslate2 on the CPU",
                      "llama.cpp": "llama.cpp on the CPU"}[runtime]
    if runtime == "onnxruntime":
        return _onnx(backend, settings)
    if runtime == "ctranslate2":
        if backend != "cuda":
            return False, f"CTranslate2 has no {_NAMES[backend]} backend"
        gpus = probe.ct2_cuda_devices()
        if gpus.value <= settings.device_id:
            return False, gpus.note if gpus.value == 0 else f"no GPU {settings.device_id} ({gpus.note})"
        return True, f"CTranslate2 on cuda:{settings.device_id} ({gpus.note})"
    if backend == "tensorrt":
        return False, f"llama.cpp has no {_NAMES[backend]} backend"
    offload, wanted = probe.llama_gpu_backends(), backend.upper()
    if not offload.value:
        return False, offload.note
    if wanted not in offload.value:
        return False, f"this llama.cpp has no {wanted} backend ({offload.note})"
    return True, f"llama.cpp offloads n_gpu_layers={settings.llm_gpu_layers} through its {wanted} backend"


def _onnx(backend: Backend, settings: AccelSettings) -> tuple[bool, str]:
    ep = EXECUTION_PROVIDER[backend]
    providers = probe.ort_providers()
    if ep not in providers.value:
        built = ", ".join(providers.value) or providers.note
        return False, f"{ep}: not in this onnxruntime build (providers: {built})"
    ok, device = _device(backend, settings)
    if not ok:
        return False, f"{ep}: {device}"
    if backend == "tensorrt":
        trt = probe.tensorrt_version()
        if not trt.value:
            return False, f"{ep}: {trt.note}"
        return True, f"{ep} on {device}, TensorRT {trt.value}, {settings.tensorrt_precision}"
    return True, f"{ep} on {device}"


def _device(backend: Backend, settings: AccelSettings) -> tuple[bool, str]:
    """(True, the configured GPU or NPU a backend would use) or (False, why there is none)."""
    index = settings.device_id
    if backend == "cann":
        npus = probe.ascend_devices()
        if npus.value <= index:
            return False, npus.note if npus.value == 0 else f"no NPU {index} ({npus.note})"
        return True, f"Ascend NPU {index}"
    gpus = probe.cuda_devices()
    if len(gpus.value) <= index:
        return False, gpus.note if not gpus.value else f"no GPU {index} ({gpus.note})"
    gpu = gpus.value[index]
    return True, f"GPU {index} {gpu.name} (compute capability {gpu.compute_capability})"
