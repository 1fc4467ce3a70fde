"""Install kioskd's packages, its C ring core and its two console scripts."""

import os

from setuptools import Extension, find_packages, setup

# An offline bundle ships the ring core compiled (scripts/bundle.sh): building it again would need a compiler.
PREBUILT = os.environ.get("KIOSKD_PREBUILT_RINGCORE") == "1"

setup(
    name="kioskd",
    version="0.1.0",
    description="Offline talking-head kiosk: listen, answer, speak with a moving face",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["daemon*", "models*", "accel*", "kiosk*", "bench*"]),
    package_data={"bench": ["turn_clips.yaml"]},  # the end-of-turn set's clip table
    # The ring's per-record hot path (see daemon/ring.py).
    ext_modules=[] if PREBUILT else [Extension("daemon._ringcore", ["daemon/_ringcore.c"],
                                               extra_compile_args=["-O2", "-std=gnu11"])],
    # Accelerators (README "Accelerators"); a CPU kiosk needs none of them. onnxruntime-gpu replaces onnxruntime
    # (the same module): uninstall that first.
    extras_require={
        # onnxruntime-gpu and CTranslate2 on CUDA 12 load cuBLAS 12 and cuDNN 9: NVIDIA's wheels carry them.
        "cuda": ["onnxruntime-gpu>=1.18", "nvidia-cublas-cu12", "nvidia-cudnn-cu12>=9,<10"],
        "tensorrt": ["onnxruntime-gpu>=1.18", "nvidia-cublas-cu12", "nvidia-cudnn-cu12>=9,<10", "tensorrt>=10"],
        "ascend": ["onnxruntime-cann", "torch", "torch-npu"],
    },
    entry_points={
        "console_scripts": [
            "kioskd=daemon.cli_kioskd:main",
            "kioskctl=daemon.cli_kioskctl:main",
        ]
    },
)
