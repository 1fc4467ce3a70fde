"""What `kioskctl doctor` reports, as plain data: for each model the backend it will run on and why, why each
earlier backend of its order was skipped, and its cache; the devices and libraries found; whether the ASR
could use a bigger Whisper. Nothing is loaded but what probing needs, and no kioskd need be running.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accel import probe
from accel.backends import MODELS
from accel.engine_cache import engine_folder, has_engine
from accel.selection import Choice
from daemon.config import AsrConfig, Config
from daemon.paths import cache_dir
from models.disk_cache import entry_name
from models.registry import ModelError, resolve
from models.tts_piper import optimised_graph_key, patched_on_disk, voice_source
from models.vad_silero import embedded_model
from models.voices import ESPEAK_CMN


def report(cfg: Config) -> dict[str, Any]:
    choices = {model: cfg.accel.choose(model) for model in MODELS}
    return {
        "models": [_model(cfg, choice) for choice in choices.values()],
        "devices": devices(),
        "asr_upgrade": asr_upgrade(cfg.asr, choices["asr"]),
        "chinese_voice": chinese_voice(cfg, choices["voice"]),
    }


def _model(cfg: Config, choice: Choice) -> dict[str, Any]:
    key, setting = cfg.model_setting(choice.model)
    return {"model": choice.model, "setting": key, "file": setting, "in_use": setting is not None,
            "backend": choice.backend, "why": choice.why,
            "skipped": [{"backend": b, "reason": why} for b, why in choice.skipped],
            "cache": _cache(cfg, choice, key, setting)}


def _cache(cfg: Config, choice: Choice, key: str, setting: str | None) -> dict[str, Any]:
    if MODELS[choice.model] != "onnxruntime":
        return {"note": f"{MODELS[choice.model]} compiles nothing to keep"}
    settings = choice.settings
    out: dict[str, Any] = {"tensorrt_engine_dir": str(settings.engine_cache)}
    if setting is None:
        return out | {"note": "not in use"}
    try:
        path = embedded_model() if choice.model == "vad" else resolve(setting, key)
    except ModelError as exc:
        return out | {"note": str(exc)}
    if choice.backend == "tensorrt":
        try:
            folder = engine_folder(_source(choice.model, path, setting), settings)
        except Exception as exc:  # onnx raises many types for a file it cannot read
            return out | {"note": f"cannot read {path}: {type(exc).__name__}: {exc}"}
        out |= {"tensorrt_engine": folder and str(folder), "engine_present": folder is not None and has_engine(folder)}
    else:
        out["tensorrt_engine"] = None  # keyed by the GPU it is built for: nothing to look for without one
    if choice.model == "voice":
        graph = cache_dir() / "onnx" / entry_name(optimised_graph_key(path, patched_on_disk(setting)), ".onnx")
        out |= {"cpu_optimised_graph": str(graph), "cpu_graph_present": graph.is_file()}
    else:
        out["cpu_optimised_graph"] = None  # only the voice's is worth keeping: the others load in milliseconds
    return out


def _source(model: str, path: Path, setting: str) -> str | bytes:
    """What the model's session loads, which is what its engine is keyed by."""
    if model != "voice":
        return str(path)
    return voice_source(path, patched_on_disk(setting))


def devices() -> list[dict[str, Any]]:
    """Each probe's answer: what it found and what it looked at."""
    gpus, npus, torch_npus = probe.cuda_devices(), probe.ascend_devices(), probe.torch_npu_devices()
    rows: list[tuple[str, object, str]] = [
        ("NVIDIA GPUs", [f"{g.index}: {g.name} (compute capability {g.compute_capability})" for g in gpus.value],
         gpus.note),
        ("TensorRT", probe.tensorrt_version().value or None, probe.tensorrt_version().note),
        ("onnxruntime providers", list(probe.ort_providers().value), probe.ort_providers().note),
        ("CTranslate2 GPUs", probe.ct2_cuda_devices().value, probe.ct2_cuda_devices().note),
        ("llama.cpp GPU backends", list(probe.llama_gpu_backends().value), probe.llama_gpu_backends().note),
        ("Ascend NPUs (CANN)", npus.value, npus.note),
        ("Ascend NPUs (torch_npu)", torch_npus.value, torch_npus.note),
    ]
    return [{"what": what, "found": found, "note": note} for what, found, note in rows]


def asr_upgrade(asr: AsrConfig, choice: Choice) -> dict[str, Any]:
    """Whether a bigger installed Whisper replaces the embedded default (only on a GPU), and why."""
    folder, why = asr.bigger_on(choice.backend)
    return {"available": folder is not None, "why": why} | ({"model": str(folder)} if folder else {})


def chinese_voice(cfg: Config, choice: Choice) -> dict[str, Any]:
    """The voice of Chinese replies: what runs it, and whether it is loaded at start (zh or auto) or only for
    a first Chinese sentence."""
    setting = cfg.voice.chinese
    runs_on = ("cpu: espeak-ng 1.52 (espeakng-loader), a formant synthesiser with nothing to accelerate"
               if setting == ESPEAK_CMN else f"{choice.backend}, as the voice: a Piper model")
    when = ("at start, asr.language is " + cfg.asr.language if cfg.asr.language != "en"
            else "at the first Chinese sentence only (asr.language is en)")
    return {"setting": setting, "runs_on": runs_on, "loaded": when}
