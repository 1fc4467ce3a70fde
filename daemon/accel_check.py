"""`scripts/accel-check`: on a GPU or NPU machine, run each model on its accelerator and on the CPU, check the
accelerator was really used, and print the speedup; without one, say what was looked for and why none was
usable (exit 0). Exit 1 when a model asked for an accelerator runs elsewhere.

    scripts/accel-check [--profile P] [--config SITE] [-o key.path=value ...] [--runs N]

Each model is loaded through its own adapter with the backend the config chooses, as the workers do, and
again with `accel.models.NAME: [cpu]`; what the runtime itself reports decides "really used": onnxruntime's
first provider, CTranslate2's device, the layers llama.cpp says (as it loads) it put on the GPU.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from accel.backends import EXECUTION_PROVIDER, MODELS
from accel.placement import llama_gpu_layers
from accel.selection import Choice, choose
from daemon import config_options
from daemon.accel_report import devices
from daemon.config import CONFIG_DIR, Config, ConfigError

SAMPLE = CONFIG_DIR / "samples" / "opening-hours.wav"


@dataclass(frozen=True)
class Loaded:
    run: Callable[[], object]  # one unit of the model's real work
    placed: str  # where its runtime says it runs: an execution provider, "cuda"/"cpu", or "gpu"/"cpu" layers


def _vad(cfg: Config, choice: Choice) -> Loaded | None:
    from models.vad_silero import CHUNK, SileroVad

    vad, chunk = SileroVad(choice=choice), np.random.default_rng(0).normal(0, 0.1, CHUNK).astype(np.float32)
    return Loaded(lambda: vad(chunk), vad.provider)


def _turn_end(cfg: Config, choice: Choice) -> Loaded | None:
    from models.turn_end import SAMPLE_RATE, WINDOW_S, SmartTurn

    if cfg.vad.turn_model is None:
        return None
    judge = SmartTurn(cfg.vad.turn_model, choice=choice)
    audio = np.random.default_rng(0).normal(0, 0.1, SAMPLE_RATE * WINDOW_S).astype(np.float32)
    return Loaded(lambda: judge(audio), judge.provider)


def _voice(cfg: Config, choice: Choice) -> Loaded | None:
    from models.registry import resolve
    from models.tts_piper import PiperTts, patched_on_disk

    tts = PiperTts(resolve(cfg.voice.model, "voice.model"), patched=patched_on_disk(cfg.voice.model),
                   choice=choice)
    return Loaded(lambda: tts.synthesize("We are open from nine to five, Monday to Friday."), tts.provider)


def _face_driver(cfg: Config, choice: Choice) -> Loaded | None:
    from models.face_driver import CROP, MEL_BANDS, MEL_STEPS, FaceDriver

    if cfg.face.driver is None:
        return None
    driver = FaceDriver(cfg.face.driver, choice=choice)
    window, crop = np.zeros((MEL_BANDS, MEL_STEPS), np.float32), np.zeros((CROP, CROP, 3), np.uint8)
    return Loaded(lambda: driver(window, crop), driver.provider)


def _asr(cfg: Config, choice: Choice) -> Loaded | None:
    from kiosk.audio_sources import decode_file
    from models.asr_whisper import WhisperAsr

    c = cfg.asr
    # The model a GPU kiosk runs (a bigger installed Whisper may replace tiny.en there), on both backends alike.
    model = c.bigger_on("cuda")[0] or c.model_used()
    asr = WhisperAsr(str(model), c.language, c.beam_size, c.compute_type, c.threads, choice=choice)
    pcm = decode_file(SAMPLE)
    return Loaded(lambda: asr.transcribe(pcm), asr.model.model.device)


def _llm(cfg: Config, choice: Choice) -> Loaded | None:
    from models.llm_llama import LlamaLlm
    from models.registry import resolve

    c = cfg.brain.llm
    if c.model is None:
        return None
    with _stderr_captured() as log:  # llama.cpp says how many layers it really put on the GPU as it loads
        llm = LlamaLlm(resolve(c.model, "brain.llm.model"), c.context, c.threads, llama_gpu_layers(choice),
                       verbose=True)
    offloaded = re.search(r"offloaded (\d+)/(\d+) layers to GPU", log.read_text(errors="replace"))
    chat = [{"role": "user", "content": "When is the branch open?"}]
    return Loaded(lambda: "".join(llm.stream(chat, max_tokens=16, temperature=0.0)),
                  "gpu" if offloaded and int(offloaded.group(1)) > 0 else "cpu")


@contextlib.contextmanager
def _stderr_captured() -> Iterator[Path]:
    """What native code writes to file descriptor 2 meanwhile, in a file (llama.cpp logs there, not to Python)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stderr"
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with path.open("wb") as out:
                os.dup2(out.fileno(), 2)
                yield path
        finally:
            os.dup2(saved, 2)
            os.close(saved)


LOADERS: dict[str, Callable[[Config, Choice], Loaded | None]] = {
    "vad": _vad, "turn_end": _turn_end, "voice": _voice, "face_driver": _face_driver, "asr": _asr, "llm": _llm}


def expected_placement(choice: Choice) -> str:
    """What the runtime must report for `choice`'s backend to have been really used."""
    backend = choice.require()
    runtime = MODELS[choice.model]
    if runtime == "onnxruntime":
        return EXECUTION_PROVIDER[backend]
    if runtime == "ctranslate2":
        return backend
    return "cpu" if backend == "cpu" else "gpu"


def _median_ms(run: Callable[[], object], runs: int) -> float:
    run()  # the first call allocates and, on a GPU, may compile: not what a visitor waits for
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _nothing_usable(choices: dict[str, Choice]) -> int:
    print("accel-check: no accelerator is usable here; every model runs on the CPU. Looked for:")
    for backend in ("tensorrt", "cuda", "cann"):
        reasons = dict.fromkeys(why for c in choices.values() for b, why in c.skipped if b == backend)
        print(f"  {backend}:")
        for why in reasons:
            print(f"    - {why}")
    print("Devices and libraries:")
    for d in devices():
        print(f"  {d['what']}: {d['note']}")
    return 0


def check(cfg: Config, runs: int) -> int:
    choices = {model: cfg.accel.choose(model) for model in MODELS}
    accelerated = {m: c for m, c in choices.items() if c.backend not in (None, "cpu")}
    if not accelerated:
        return _nothing_usable(choices)
    failed = 0
    for model, choice in choices.items():
        if model not in accelerated:
            print(f"{model:12} stays on {choice.backend or 'nothing'}: {choice.why}")
            continue
        try:
            line = _compare(cfg, model, choice, runs)
        except Exception as exc:  # a model that fails on its accelerator is this check's finding, not its end
            line = f"FAIL: {type(exc).__name__}: {exc}"
        failed += line.startswith("FAIL")
        print(f"{model:12} {line}")
    return 1 if failed else 0


def _compare(cfg: Config, model: str, choice: Choice, runs: int) -> str:
    """One line on `model`: its time on the accelerator and on the CPU, or why it failed."""
    on_accel = LOADERS[model](cfg, choice)
    if on_accel is None:
        return f"{choice.backend}: not used by this config, not run"
    if on_accel.placed != expected_placement(choice):
        return f"FAIL: chose {choice.backend} but runs on {on_accel.placed}"
    settings = replace(choice.settings, models=choice.settings.models | {model: ("cpu",)})
    on_cpu = LOADERS[model](cfg, choose(model, settings))
    assert on_cpu is not None  # the same config that loaded it on the accelerator
    accel_ms, cpu_ms = _median_ms(on_accel.run, runs), _median_ms(on_cpu.run, runs)
    return (f"{choice.backend:8} {accel_ms:9.1f} ms   cpu {cpu_ms:9.1f} ms   speedup x{cpu_ms / accel_ms:.1f}"
            f"   (runs on {on_accel.placed})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="accel-check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    config_options.add_options(p)
    p.add_argument("--runs", type=int, default=10, help="timed runs per model and backend, after a warm-up (default 10)")
    args = p.parse_args(argv)
    try:
        cfg = config_options.load(args)
    except ConfigError as exc:
        print(f"accel-check: bad config:\n{exc}", file=sys.stderr)
        return 1
    return check(cfg, args.runs)


if __name__ == "__main__":
    raise SystemExit(main())
