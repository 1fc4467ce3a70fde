"""`scripts/accel-check`: without an accelerator it says what it looked for and exits 0; a model that chose one
but runs elsewhere fails it; on a CUDA machine it runs for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accel import probe
from daemon.accel_check import check
from daemon.config import load

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "accel-check"


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KIOSKD_CONFIG"} | {"KIOSKD_PYTHON": sys.executable}
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(bool(probe.cuda_devices().value or probe.ascend_devices().value),
                    reason="this machine has a GPU or NPU: accel-check measures it instead")
def test_without_an_accelerator_it_says_what_it_looked_for_and_exits_0() -> None:
    out = run_script()
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("accel-check: no accelerator is usable here; every model runs on the CPU.")
    for backend in ("tensorrt", "cuda", "cann"):
        assert f"\n  {backend}:\n    - " in out.stdout
    assert "ctranslate2.get_cuda_device_count() is 0" in out.stdout
    assert "NVIDIA GPUs: " in out.stdout


def test_a_model_that_chose_an_accelerator_but_runs_on_the_cpu_fails_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """onnxruntime given a provider its build lacks runs on the CPU without an error: accel-check must catch it."""
    gpu = probe.Gpu(0, "NVIDIA Test GPU", "8.6")
    monkeypatch.setattr(probe, "ort_providers", lambda: probe.Found(
        ("CUDAExecutionProvider", "CPUExecutionProvider"), "simulated onnxruntime-gpu"))
    monkeypatch.setattr(probe, "cuda_devices", lambda: probe.Found((gpu,), "1 NVIDIA GPU(s)"))
    cfg = load(overrides=["accel.order=[cpu]", "accel.models.vad=[cuda, cpu]"])
    assert check(cfg, runs=1) == 1
    out = capsys.readouterr().out
    assert "vad          FAIL: chose cuda but runs on CPUExecutionProvider" in out
    assert "asr          stays on cpu: first usable of accel.order [cpu]" in out


@pytest.mark.skipif(not probe.ct2_cuda_devices().value and not probe.cuda_devices().value,
                    reason="needs an NVIDIA GPU with its driver (and onnxruntime-gpu / a CUDA llama.cpp for the "
                           "models to be accelerated); none here")
def test_on_a_cuda_machine_it_runs_every_model_on_the_gpu_and_the_cpu() -> None:
    out = run_script("--runs", "3")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "speedup x" in out.stdout
    assert "FAIL" not in out.stdout
