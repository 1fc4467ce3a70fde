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

# What CTranslate2's CUDA build loads at its first GPU call, and the NVIDIA pip package that ships each.
_CT2_CUDA_LIBRARIES = (("libcublas.so.12", "nvidia.cublas.lib"), ("libcudnn_ops.so.9", "nvidia.cudnn.lib"))
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
    """The version of the TensorRT library onnxruntime's provider would load (libnvinfer, from the library path
    or the `tensorrt` package's own folder), asked of the library itself: a pip package and a system TensorRT
    can differ, and the engine cache's key must name the one that builds the engines."""
    for soname, major in (("libnvinfer.so.10", 10), ("libnvinfer.so.8", 8)):
        lib = _load(soname, "tensorrt_libs")
        if lib is None:
            continue
        code = int(lib.getInferLibVersion())
        # NV_TENSORRT_VERSION: major*10000 + minor*100 + patch from TensorRT 10, major*1000 + minor*100 + patch before
        minor, patch = (code % 10000 // 100, code % 100) if major >= 10 else (code % 1000 // 100, code % 100)
        return Found(f"{major}.{minor}.{patch}", f"TensorRT {major}.{minor}.{patch} ({soname})")
    return Found("", "TensorRT not found (no libnvinfer.so.10 or .8 on the library path; pip install '.[tensorrt]' "
                     "and put its tensorrt_libs folder on LD_LIBRARY_PATH)")


def _load(soname: str, *packages: str) -> ctypes.CDLL | None:
    """A shared library from the library path, or else from the folders of pip packages that ship it (NVIDIA's
    wheels put theirs inside the package); None when neither has it."""
    folders = [""]
    for package in packages:
        try:
            spec = importlib.util.find_spec(package)
        except ImportError:  # a parent package ("nvidia") is not installed
            spec = None
        folders += list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        try:
            return ctypes.CDLL(f"{folder}/{soname}" if folder else soname)
        except OSError:
            continue
    return None


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
    """GPUs CTranslate2 (faster-whisper's engine) can use: its PyPI build has CUDA compiled in, so it counts the
    GPUs of any machine with a driver, but without cuBLAS 12 and cuDNN 9 its first encode aborts the process."""
    try:
        import ctranslate2

        count = ctranslate2.get_cuda_device_count()
    except Exception as exc:  # an install without its CUDA libraries can fail on any call
        return Found(0, f"ctranslate2 cannot count GPUs ({type(exc).__name__}: {exc})")
    if count == 0:
        return Found(0, f"ctranslate2.get_cuda_device_count() is {count}")
    missing = [so for so, package in _CT2_CUDA_LIBRARIES if _load(so, package) is None]
    if missing:
        return Found(0, f"ctranslate2 sees {count} GPU(s) but cannot run on them without {', '.join(missing)} "
                        "(pip install '.[cuda]', or the system's CUDA 12 and cuDNN 9)")
    return Found(count, f"ctranslate2.get_cuda_device_count() is {count}, with cuBLAS 12 and cuDNN 9")


@cache
def llama_gpu_backends() -> Found[tuple[str, ...]]:
    """The GPU backends ("CUDA", "CANN", ...) this llama-cpp-python offloads through: none unless it was built
    with one. CUDA names itself in llama.cpp's system info; CANN's backend does not, so an offloading build on a
    machine whose CANN runtime sees an NPU is taken to be a CANN build."""
    try:
        import llama_cpp

        offload = bool(llama_cpp.llama_supports_gpu_offload())
        info = llama_cpp.llama_print_system_info().decode(errors="replace") if offload else ""
    except Exception as exc:
        return Found((), f"llama_cpp not importable ({type(exc).__name__}: {exc})")
    if not offload:
        return Found((), "llama.cpp built without GPU offload (llama_supports_gpu_offload() false)")
    gpus = system_info_backends(info)
    if not gpus and ascend_devices().value:
        gpus = ("CANN",)
    return Found(gpus, f"llama.cpp offloads through {', '.join(gpus) or 'a backend it does not name'} "
                       "(llama_supports_gpu_offload() true)")


def system_info_backends(info: str) -> tuple[str, ...]:
    """The GPU backends named in llama.cpp's system info ("CUDA : ARCHS = 890 | USE_GRAPHS = 1 | CPU : SSE3 = 1 |")."""
    names = [part.split(" : ")[0].strip() for part in info.split("|") if " : " in part]
    return tuple(n for n in dict.fromkeys(names) if n and n != "CPU")


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
