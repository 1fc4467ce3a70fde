"""What this machine offers, asked of each library and driver: the only place that touches them.

Every probe is lazy (it imports or loads its library when first called, never at import: workers fork
from a single-threaded zygote, and onnxruntime, the CUDA driver and torch start threads), cached (a
process asks once) and never raises: a missing library, driver or device is an empty answer with a
sentence saying what was looked for and why nothing was found. Tests simulate machines by replacing
these functions, nothing below them.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from functools import cache
from typing import Generic, TypeVar

T = TypeVar("T")

# cuDeviceGetAttribute's codes for the compute capability (cuda.h, CUdevice_attribute).
_CC_MAJOR, _CC_MINOR = 75, 76


@dataclass(frozen=True)
class Found(Generic[T]):
    """A probe's answer: what was found, and a sentence on what was looked at (why it is empty, when it is)."""

    value: T
    note: str


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    compute_capability: str  # "8.6": what a TensorRT engine is built for


@cache
def ort_providers() -> Found[tuple[str, ...]]:
    """The execution providers this onnxruntime build has (listed does not mean a device is there)."""
    try:
        import onnxruntime

        providers = tuple(onnxruntime.get_available_providers())
    except Exception as exc:  # a broken install raises anything from ImportError to OSError
        return Found((), f"onnxruntime not importable ({type(exc).__name__}: {exc})")
    return Found(providers, f"onnxruntime {onnxruntime.__version__}: {', '.join(providers)}")


@cache
def cuda_devices() -> Found[tuple[Gpu, ...]]:
    """NVIDIA GPUs, asked of the driver itself (libcuda), so no CUDA toolkit or torch is needed to look."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return Found((), "no NVIDIA driver (libcuda.so.1 not found)")
    if (err := cuda.cuInit(0)) != 0:
        return Found((), f"the NVIDIA driver found no usable GPU (cuInit error {err})")
    count = ctypes.c_int()
    if cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
        return Found((), "the NVIDIA driver reports no GPU")
    gpus = []
    for i in range(count.value):
        device, major, minor = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        name = ctypes.create_string_buffer(256)
        cuda.cuDeviceGet(ctypes.byref(device), i)
        cuda.cuDeviceGetName(name, len(name), device)
        cuda.cuDeviceGetAttribute(ctypes.byref(major), _CC_MAJOR, device)
        cuda.cuDeviceGetAttribute(ctypes.byref(minor), _CC_MINOR, device)
        gpus.append(Gpu(i, name.value.decode(errors="replace"), f"{major.value}.{minor.value}"))
    return Found(tuple(gpus), f"{len(gpus)} NVIDIA GPU(s)")


@cache
def tensorrt_version() -> Found[str]:
    """TensorRT's version, from its Python package (the `[tensorrt]` extra), without importing it."""
    for dist in ("tensorrt", "tensorrt-cu12", "tensorrt-cu11"):
        try:
            return Found(importlib.metadata.version(dist), f"TensorRT from the {dist} package")
        except importlib.metadata.PackageNotFoundError:
            continue
    return Found("", "TensorRT not installed (no tensorrt package: pip install '.[tensorrt]')")


@cache
def ascend_devices() -> Found[int]:
    """Ascend NPUs, asked of CANN's runtime (libascendcl, on the library path once CANN's set_env.sh ran)."""
    try:
        acl = ctypes.CDLL("libascendcl.so")
    except OSError:
        return Found(0, "no Ascend CANN runtime (libascendcl.so not found)")
    count = ctypes.c_uint32()
    if (err := acl.aclrtGetDeviceCount(ctypes.byref(count))) != 0:
        return Found(0, f"CANN's runtime found no usable NPU (aclrtGetDeviceCount error {err})")
    return Found(count.value, f"{count.value} Ascend NPU(s)" if count.value else "CANN's runtime reports no NPU")


@cache
def ct2_cuda_devices() -> Found[int]:
    """GPUs CTranslate2 (faster-whisper's engine) can use."""
    try:
        import ctranslate2

        count = ctranslate2.get_cuda_device_count()
    except Exception as exc:  # an install without its CUDA libraries can fail on any call
        return Found(0, f"ctranslate2 cannot count GPUs ({type(exc).__name__}: {exc})")
    return Found(count, f"ctranslate2.get_cuda_device_count() is {count}")


@cache
def llama_gpu_backends() -> Found[tuple[str, ...]]:
    """The GPU backends ("CUDA", "CANN", ...) this llama-cpp-python offloads through: none unless it was built
    with one and that found a device. Its system info names the backends ("CUDA : ARCHS = 890 | ... | CPU : ...")."""
    try:
        import llama_cpp

        offload = bool(llama_cpp.llama_supports_gpu_offload())
        info = llama_cpp.llama_print_system_info().decode(errors="replace") if offload else ""
    except Exception as exc:
        return Found((), f"llama_cpp not importable ({type(exc).__name__}: {exc})")
    if not offload:
        return Found((), "llama.cpp built without GPU offload (llama_supports_gpu_offload() false)")
    names = tuple(part.split(" : ")[0].strip() for part in info.split("|") if " : " in part)
    gpus = tuple(n for n in names if n != "CPU")
    return Found(gpus, f"llama.cpp offloads through {', '.join(gpus) or 'an unnamed backend'} "
                       "(llama_supports_gpu_offload() true)")


@cache
def torch_npu_devices() -> Found[int]:
    """Ascend NPUs torch sees through torch_npu (for a torch face driver; kioskd's own driver is ONNX)."""
    if importlib.util.find_spec("torch_npu") is None:
        return Found(0, "torch_npu not installed")
    try:
        import torch
        import torch_npu  # noqa: F401 (registers torch.npu)

        count = torch.npu.device_count() if torch.npu.is_available() else 0
    except Exception as exc:  # a torch_npu without its CANN libraries fails on import
        return Found(0, f"torch_npu unusable ({type(exc).__name__}: {exc})")
    return Found(count, f"torch.npu sees {count} NPU(s)" if count else "torch.npu.is_available() is false")
