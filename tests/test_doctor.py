"""`kioskctl doctor` as an operator runs it, in a process of its own with no kioskd running: on this machine,
which has no accelerator, every model is on the CPU and each accelerator was skipped with a reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from accel import probe
from accel.backends import MODELS
from accel.selection import choose
from accel.settings import AccelSettings
from daemon.accel_report import asr_upgrade
from daemon.config import AsrConfig
from models.disk_cache import DiskCache
from models.prepare import piper_voice_path
from models.tts_piper import PiperTts

ROOT = Path(__file__).resolve().parent.parent
ACCELERATORS = ("tensorrt", "cuda", "cann")
no_accelerator = pytest.mark.skipif(
    bool(probe.cuda_devices().value or probe.ascend_devices().value or probe.ct2_cuda_devices().value),
    reason="this machine has a GPU or NPU: the CPU-only expectations do not hold")


def doctor(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KIOSKD_CONFIG"} | {"KIOSKD_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "daemon.cli_kioskctl", "doctor", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def doctor_json(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = doctor("--json", *args, cache=tmp_path)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@no_accelerator
def test_doctor_json_puts_every_model_on_the_cpu_and_says_why_not_elsewhere(tmp_path: Path) -> None:
    found = doctor_json(tmp_path)
    models = {m["model"]: m for m in found["models"]}
    assert list(models) == list(MODELS)
    for name, m in models.items():
        assert m["backend"] == "cpu", name
        assert [s["backend"] for s in m["skipped"]] == list(ACCELERATORS), name
        assert all(s["reason"] for s in m["skipped"]), name
        assert m["why"].startswith("first usable of accel.order [tensorrt, cuda, cann, cpu]")
    assert models["asr"]["skipped"][1]["reason"] == "ctranslate2.get_cuda_device_count() is 0"
    assert models["face_driver"]["in_use"] is False  # the default has no neural driver
    assert {d["what"] for d in found["devices"]} >= {"NVIDIA GPUs", "TensorRT", "Ascend NPUs (CANN)",
                                                      "Ascend NPUs (torch_npu)", "onnxruntime providers"}
    assert next(d for d in found["devices"] if d["what"] == "NVIDIA GPUs")["found"] == []
    assert found["asr_upgrade"]["available"] is False
    assert found["asr_upgrade"]["why"].startswith("the asr runs on cpu")
    assert found["chinese_voice"]["setting"] == "embedded:espeak-cmn"
    assert doctor_json(tmp_path, "-o", "asr.language=zh")["chinese_voice"]["loaded"] == "at start, asr.language is zh"


@no_accelerator
def test_doctor_prints_a_table_and_every_skipped_accelerator(tmp_path: Path) -> None:
    out = doctor(cache=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("│")]
    for name in MODELS:
        row = next(r for r in rows if r.split("│")[1].strip() == name)
        assert row.split("│")[3].strip() == "cpu", row
        for backend in ACCELERATORS:
            assert any(line.startswith(f"    skipped {backend}: ") for line in out.stdout.splitlines()
                       if line), backend
    assert "ASR upgrade: none: the asr runs on cpu" in out.stdout
    assert "Chinese voice: embedded:espeak-cmn on cpu: espeak-ng 1.52" in out.stdout
    assert "loaded at the first Chinese sentence only (asr.language is en)" in out.stdout
    assert "Devices and libraries" in out.stdout


def test_doctor_honours_overrides_and_refuses_a_bad_backend(tmp_path: Path) -> None:
    asr = next(m for m in doctor_json(tmp_path, "-o", "accel.models.asr=[cpu]")["models"] if m["model"] == "asr")
    assert (asr["backend"], asr["skipped"]) == ("cpu", [])
    assert asr["why"].startswith("first usable of accel.models.asr [cpu]")
    bad = doctor("-o", "accel.order=[gpu, cpu]", cache=tmp_path)
    assert bad.returncode == 1
    assert "accel.order.0: Input should be 'tensorrt', 'cuda', 'cann' or 'cpu'" in bad.stderr


def test_doctor_reads_a_site_file_with_config(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("accel:\n  models:\n    llm: [cpu]\n", encoding="utf-8")
    llm = next(m for m in doctor_json(tmp_path, "--config", str(site))["models"] if m["model"] == "llm")
    assert llm["why"].startswith("first usable of accel.models.llm [cpu]")


def test_doctor_sees_the_voice_graph_the_voice_keeps(tmp_path: Path) -> None:
    """The CPU optimised-graph cache it reports is the very file the voice writes and reads."""
    def voice_cache() -> dict[str, Any]:
        return next(m for m in doctor_json(tmp_path)["models"] if m["model"] == "voice")["cache"]

    before = voice_cache()
    assert before["cpu_graph_present"] is False
    assert before["tensorrt_engine_dir"] == str(tmp_path / "tensorrt")
    PiperTts(piper_voice_path(), patched=True, cache=DiskCache("onnx", tmp_path))
    after = voice_cache()
    assert after["cpu_graph_present"] is True
    assert Path(after["cpu_optimised_graph"]).is_file()
    assert after["cpu_optimised_graph"] == before["cpu_optimised_graph"]


def test_a_bigger_installed_whisper_replaces_tiny_en_only_on_cuda(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(probe, "ct2_cuda_devices", lambda: probe.Found(0, "ctranslate2.get_cuda_device_count() is 0"))
    on_cpu = choose("asr", AccelSettings())
    monkeypatch.setattr(probe, "ct2_cuda_devices", lambda: probe.Found(1, "ctranslate2.get_cuda_device_count() is 1"))
    on_gpu = choose("asr", AccelSettings())
    assert (on_cpu.backend, on_gpu.backend) == ("cpu", "cuda")

    def snapshot(name: str) -> Path:
        folder = tmp_path / f"models--Systran--faster-whisper-{name}" / "snapshots" / "0123abc"
        folder.mkdir(parents=True)
        for name in ("model.bin", "config.json", "tokenizer.json"):
            (folder / name).write_bytes(b"{}")
        return folder

    snapshot("tiny.en")  # no bigger than the default
    cut_short = tmp_path / "models--Systran--faster-whisper-small" / "snapshots" / "0123abc"
    cut_short.mkdir(parents=True)
    (cut_short / "model.bin").write_bytes(b"weights")  # a download that stopped before its tokenizer
    nothing = asr_upgrade(AsrConfig(), on_gpu)
    assert nothing["available"] is False and f"looked in {tmp_path}" in nothing["why"]
    large = snapshot("large-v3")  # bigger, but its decode may not fit the reply budget on a small GPU
    assert asr_upgrade(AsrConfig(), on_gpu)["available"] is False
    base = snapshot("base")
    assert asr_upgrade(AsrConfig(), on_gpu)["model"] == str(base)
    small = snapshot("small.en")
    assert asr_upgrade(AsrConfig(), on_gpu) == {
        "available": True, "why": "the asr runs on CUDA: the installed Whisper small.en replaces tiny.en",
        "model": str(small)}
    assert str(large) not in str(asr_upgrade(AsrConfig(), on_gpu))
    assert asr_upgrade(AsrConfig(), on_cpu)["available"] is False
    assert asr_upgrade(AsrConfig(model=str(small)), on_gpu)["why"].startswith(f"asr.model is {small}, not the embedded default")
    # Visitors who may speak Chinese: the multilingual whisper-base is in use, and no English-only model replaces it.
    for language in ("zh", "auto"):
        assert asr_upgrade(AsrConfig(language=language), on_gpu) == {
            "available": True, "why": "the asr runs on CUDA: the installed Whisper base replaces whisper-base",
            "model": str(base)}
