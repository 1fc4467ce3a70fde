"""Backend selection (accel/): every mix of TensorRT, CUDA and CANN, simulated only where accel/probe.py asks
the libraries and drivers; the reasons recorded for what was skipped; per-model orders; the options each
onnxruntime provider is given; the TensorRT engine cache key; and the config that names it all."""

from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest

from accel import probe
from accel.backends import EXECUTION_PROVIDER, MODELS
from accel.engine_cache import engine_cache_key, model_facts
from accel.placement import cuda_compute_type, llama_gpu_layers, whisper_device
from accel.providers import session
from accel.selection import AccelUnavailable, choose
from accel.settings import AccelSettings, CannOptions
from daemon.config import AccelModelsConfig, ConfigError, load
from tests.face_driver_standin import build

ROOT = Path(__file__).resolve().parent.parent
ONNX_MODELS = [m for m, runtime in MODELS.items() if runtime == "onnxruntime"]
GPU = probe.Gpu(0, "NVIDIA Test GPU", "8.6")


def simulate(monkeypatch: pytest.MonkeyPatch, *, trt: bool = False, cuda: bool = False, cann: bool = False,
             providers: tuple[str, ...] | None = None, gpus: tuple[probe.Gpu, ...] | None = None,
             tensorrt: str | None = None) -> None:
    """A machine with the named accelerators, each whole (its onnxruntime provider, device and libraries);
    `providers`, `gpus` and `tensorrt` break one part of one."""
    has_gpu = trt or cuda
    built = providers if providers is not None else tuple(
        ep for ep, on in (("TensorrtExecutionProvider", trt), ("CUDAExecutionProvider", has_gpu),
                          ("CANNExecutionProvider", cann), ("CPUExecutionProvider", True)) if on)
    found_gpus = gpus if gpus is not None else ((GPU,) if has_gpu else ())
    trt_version = tensorrt if tensorrt is not None else ("10.3.0" if trt else "")
    monkeypatch.setattr(probe, "ort_providers", lambda: probe.Found(built, "simulated onnxruntime"))
    monkeypatch.setattr(probe, "cuda_devices", lambda: probe.Found(
        found_gpus, f"{len(found_gpus)} NVIDIA GPU(s)" if found_gpus else "no NVIDIA driver (simulated)"))
    monkeypatch.setattr(probe, "tensorrt_version", lambda: probe.Found(
        trt_version, "simulated TensorRT" if trt_version else "TensorRT not installed (simulated)"))
    monkeypatch.setattr(probe, "ascend_devices", lambda: probe.Found(
        1 if cann else 0, "1 Ascend NPU(s)" if cann else "no Ascend CANN runtime (simulated)"))
    monkeypatch.setattr(probe, "ct2_cuda_devices", lambda: probe.Found(
        len(found_gpus) if cuda else 0, f"ctranslate2.get_cuda_device_count() is {len(found_gpus) if cuda else 0}"))
    offload = tuple(name for name, on in (("CUDA", cuda), ("CANN", cann)) if on)
    monkeypatch.setattr(probe, "llama_gpu_backends", lambda: probe.Found(
        offload, "simulated offload" if offload else "llama.cpp built without GPU offload (simulated)"))
    monkeypatch.setattr(probe, "torch_npu_devices", lambda: probe.Found(0, "torch_npu not installed"))


COMBOS = list(itertools.product([False, True], repeat=3))


@pytest.mark.parametrize(("trt", "cuda", "cann"), COMBOS,
                         ids=[f"trt={int(t)}-cuda={int(c)}-cann={int(n)}" for t, c, n in COMBOS])
def test_each_model_takes_the_first_usable_backend(monkeypatch: pytest.MonkeyPatch, trt: bool, cuda: bool,
                                                   cann: bool) -> None:
    simulate(monkeypatch, trt=trt, cuda=cuda, cann=cann)
    present = {"tensorrt": trt, "cuda": trt or cuda, "cann": cann, "cpu": True}
    onnx = next(b for b in ("tensorrt", "cuda", "cann", "cpu") if present[b])
    expected = {m: onnx for m in ONNX_MODELS}
    expected["asr"] = "cuda" if cuda else "cpu"  # CTranslate2 has CUDA only; a TensorRT-only box has no CT2 GPU here
    expected["llm"] = "cuda" if cuda else "cann" if cann else "cpu"  # llama.cpp offloads to either
    settings = AccelSettings()
    for model, backend in expected.items():
        choice = choose(model, settings)
        assert choice.backend == backend, (model, choice)
        order = list(settings.order)
        assert [b for b, _ in choice.skipped] == order[: order.index(backend)]
        assert all(reason for _, reason in choice.skipped)
        assert choice.why.startswith("first usable of accel.order [tensorrt, cuda, cann, cpu]")


def test_a_cpu_only_machine_says_why_each_accelerator_was_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, providers=("AzureExecutionProvider", "CPUExecutionProvider"))
    reasons = {m: dict(choose(m, AccelSettings()).skipped) for m in MODELS}
    assert reasons["vad"]["tensorrt"] == ("TensorrtExecutionProvider: not in this onnxruntime build "
                                          "(providers: AzureExecutionProvider, CPUExecutionProvider)")
    assert reasons["voice"]["cann"].startswith("CANNExecutionProvider: not in this onnxruntime build")
    assert reasons["face_driver"]["cann"] == reasons["voice"]["cann"]  # torch_npu is doctor's to report, not probed here
    assert reasons["asr"] == {"tensorrt": "CTranslate2 has no TensorRT backend",
                              "cuda": "ctranslate2.get_cuda_device_count() is 0",
                              "cann": "CTranslate2 has no CANN backend"}
    assert reasons["llm"]["tensorrt"] == "llama.cpp has no TensorRT backend"
    assert reasons["llm"]["cuda"] == "llama.cpp built without GPU offload (simulated)"


def test_a_provider_without_its_device_or_library_is_skipped_with_that_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    # onnxruntime-gpu lists its providers whether or not a GPU or TensorRT is there.
    both = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
    simulate(monkeypatch, providers=both, gpus=())
    skipped = dict(choose("vad", AccelSettings()).skipped)
    assert skipped["tensorrt"] == "TensorrtExecutionProvider: no NVIDIA driver (simulated)"
    assert skipped["cuda"] == "CUDAExecutionProvider: no NVIDIA driver (simulated)"

    simulate(monkeypatch, providers=both, gpus=(GPU,), tensorrt="")
    choice = choose("vad", AccelSettings())
    assert choice.backend == "cuda"
    assert choice.skipped == (("tensorrt", "TensorrtExecutionProvider: TensorRT not installed (simulated)"),)
    assert "NVIDIA Test GPU" in choice.why

    simulate(monkeypatch, providers=both, gpus=(GPU,), tensorrt="10.3.0")
    assert choose("vad", replace(AccelSettings(), device_id=1)).skipped[0][1].startswith(
        "TensorrtExecutionProvider: no GPU 1 (1 NVIDIA GPU(s))")


def test_a_per_model_order_replaces_the_default_for_that_model_only(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, trt=True, cuda=True)
    settings = AccelSettings(models={"asr": ("cpu",), "voice": ("cuda", "cpu")})
    asr, voice, vad = (choose(m, settings) for m in ("asr", "voice", "vad"))
    assert (asr.backend, asr.skipped) == ("cpu", ())
    assert asr.why.startswith("first usable of accel.models.asr [cpu]")
    assert (voice.backend, voice.skipped) == ("cuda", ())
    assert vad.backend == "tensorrt"


def test_an_order_with_nothing_usable_names_its_key_and_refuses_to_load(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch)
    choice = choose("asr", AccelSettings(models={"asr": ("cuda",)}))
    assert choice.backend is None
    assert choice.why == ("accel.models.asr: none of [cuda] is usable for asr (cuda: "
                          "ctranslate2.get_cuda_device_count() is 0)")
    with pytest.raises(AccelUnavailable, match=r"accel\.models\.asr"):
        choice.require()
    with pytest.raises(AccelUnavailable, match=r"accel\.models\.asr"):
        whisper_device(choice, "int8")


class FakeSession:
    """onnxruntime.InferenceSession's stand-in: keeps what it was given, runs on the first provider it got,
    or on the CPU when `loads` is False (what onnxruntime does when a provider's libraries fail)."""

    loads = True
    made: ClassVar[list[FakeSession]] = []

    def __init__(self, source: object, sess_options: object = None, providers: list[Any] | None = None) -> None:
        self.providers = providers or []
        FakeSession.made.append(self)

    def get_providers(self) -> list[str]:
        first = self.providers[0]
        return [first[0] if isinstance(first, tuple) else first] if self.loads else ["CPUExecutionProvider"]


@pytest.fixture
def fake_ort(monkeypatch: pytest.MonkeyPatch) -> type[FakeSession]:
    import onnxruntime

    FakeSession.made, FakeSession.loads = [], True
    monkeypatch.setattr(onnxruntime, "InferenceSession", FakeSession)
    return FakeSession


def test_tensorrt_gets_its_engine_folder_and_precision_then_cuda_then_the_cpu(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_ort: type[FakeSession]) -> None:
    simulate(monkeypatch, trt=True)
    model = build(tmp_path / "driver.onnx")
    settings = AccelSettings(engine_cache=tmp_path / "engines", device_id=0, tensorrt_precision="fp16")
    session(str(model), choice=choose("face_driver", settings))
    (trt, trt_options), cuda, cpu = fake_ort.made[-1].providers
    assert (trt, cuda, cpu) == ("TensorrtExecutionProvider", ("CUDAExecutionProvider", {"device_id": 0}),
                                "CPUExecutionProvider")
    folder = Path(trt_options["trt_engine_cache_path"])
    import onnxruntime

    sha, shapes = model_facts(str(model))
    assert folder == tmp_path / "engines" / engine_cache_key(GPU.name, GPU.compute_capability, "10.3.0",
                                                             onnxruntime.__version__, "fp16", shapes, sha)
    assert folder.is_dir()
    assert trt_options | {"trt_engine_cache_path": None} == {
        "device_id": 0, "trt_fp16_enable": True, "trt_int8_enable": False, "trt_engine_cache_enable": True,
        "trt_engine_cache_path": None}


def test_cuda_and_cann_get_their_device_and_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    fake_ort: type[FakeSession]) -> None:
    model = str(build(tmp_path / "driver.onnx"))
    simulate(monkeypatch, cuda=True)
    session(model, choice=choose("vad", AccelSettings()))
    assert fake_ort.made[-1].providers == [("CUDAExecutionProvider", {"device_id": 0}), "CPUExecutionProvider"]
    simulate(monkeypatch, cann=True)
    session(model, choice=choose("vad", AccelSettings(cann=CannOptions(npu_mem_limit=2 << 30))))
    assert fake_ort.made[-1].providers == [
        ("CANNExecutionProvider", {"device_id": 0, "arena_extend_strategy": "kNextPowerOfTwo",
                                   "npu_mem_limit": 2 << 30, "precision_mode": "force_fp16",
                                   "op_select_impl_mode": "high_performance"}), "CPUExecutionProvider"]
    session(model, choice=choose("vad", AccelSettings()))  # no limit set: the provider's own
    assert "npu_mem_limit" not in fake_ort.made[-1].providers[0][1]


def test_a_provider_that_fails_to_load_is_logged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 fake_ort: type[FakeSession], caplog: pytest.LogCaptureFixture) -> None:
    simulate(monkeypatch, cuda=True)
    fake_ort.loads = False
    session(str(build(tmp_path / "driver.onnx")), choice=choose("face_driver", AccelSettings()))
    assert "face_driver: CUDAExecutionProvider did not load, running on CPUExecutionProvider" in caplog.text


def test_the_cpu_choice_runs_a_real_session_on_the_cpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    simulate(monkeypatch)
    made = session(str(build(tmp_path / "driver.onnx")), choice=choose("face_driver", AccelSettings()))
    assert made.get_providers() == ["CPUExecutionProvider"]


ENGINE_FIELDS: dict[str, Any] = {"gpu_name": "NVIDIA A10", "compute_capability": "8.6", "tensorrt": "10.3.0",
                                 "onnxruntime": "1.20.1", "precision": "fp16",
                                 "shapes": {"mel": [1, 1, 80, 16], "face": [1, 6, 96, 96]}, "model_sha256": "ab" * 32}
CHANGED: dict[str, Any] = {"gpu_name": "NVIDIA L4", "compute_capability": "8.9", "tensorrt": "10.4.0",
                           "onnxruntime": "1.21.0", "precision": "int8",
                           "shapes": {"mel": [1, 1, 80, 32], "face": [1, 6, 96, 96]}, "model_sha256": "cd" * 32}


def test_the_same_engine_inputs_give_the_same_key() -> None:
    assert engine_cache_key(**ENGINE_FIELDS) == engine_cache_key(**dict(reversed(ENGINE_FIELDS.items())))


@pytest.mark.parametrize("field", list(ENGINE_FIELDS))
def test_any_changed_engine_input_gives_a_new_key(field: str) -> None:
    assert engine_cache_key(**ENGINE_FIELDS) != engine_cache_key(**(ENGINE_FIELDS | {field: CHANGED[field]}))


def test_model_facts_are_the_file_hash_and_its_input_shapes(tmp_path: Path) -> None:
    import hashlib

    model = build(tmp_path / "driver.onnx")
    sha, shapes = model_facts(str(model))
    assert sha == hashlib.sha256(model.read_bytes()).hexdigest()
    assert sorted(map(tuple, shapes.values())) == [(1, 1, 80, 16), (1, 6, 96, 96)]
    assert model_facts(model.read_bytes()) == (sha, shapes)


def test_gpu_placements_for_whisper_and_llama(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cuda_compute_type("int8", {"int8_float16", "float16", "float32"}) == "int8_float16"
    assert cuda_compute_type("float32", {"int8_float16", "float16", "float32"}) == "float16"
    assert cuda_compute_type("int8", {"float32"}) == "float32"
    assert cuda_compute_type("int8", {"int8_float32", "float32"}) == "int8_float32"  # a GPU without fast float16
    assert cuda_compute_type("int8", {"float16", "int8_float32", "float32"}) == "float16"
    simulate(monkeypatch)
    assert whisper_device(choose("asr", AccelSettings()), "int8") == ("cpu", 0, "int8")
    assert whisper_device(None, "int8") == ("cpu", 0, "int8")
    assert llama_gpu_layers(choose("llm", AccelSettings())) == 0
    simulate(monkeypatch, cuda=True)
    assert llama_gpu_layers(choose("llm", AccelSettings(llm_gpu_layers=12))) == 12


def test_probes_never_raise_and_always_say_what_they_looked_at() -> None:
    for name in ("ort_providers", "cuda_devices", "tensorrt_version", "ascend_devices", "ct2_cuda_devices",
                 "llama_gpu_backends", "torch_npu_devices"):
        found = getattr(probe, name)()
        assert isinstance(found, probe.Found) and found.note, name


def test_missing_drivers_and_libraries_are_answers_not_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes

    def no_library(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # importing it now raises ImportError
    monkeypatch.setitem(sys.modules, "ctranslate2", None)
    probes = (probe.cuda_devices, probe.ascend_devices, probe.llama_gpu_backends, probe.ct2_cuda_devices)
    for p in probes:
        p.cache_clear()
    try:
        assert probe.cuda_devices() == probe.Found((), "no NVIDIA driver (libcuda.so.1 not found)")
        assert probe.ascend_devices() == probe.Found(0, "no Ascend CANN runtime (libascendcl.so not found)")
        assert probe.llama_gpu_backends().value == ()
        assert probe.llama_gpu_backends().note.startswith("llama_cpp not importable (ModuleNotFoundError")
        assert probe.ct2_cuda_devices().value == 0
    finally:
        for p in probes:
            p.cache_clear()


def test_importing_the_model_adapters_starts_no_onnxruntime() -> None:
    """Workers fork from a single-threaded zygote: onnxruntime (which starts a thread) is imported in setup."""
    code = ("import sys, accel.providers, accel.selection, accel.probe, accel.engine_cache, models.vad_silero, "
            "models.turn_end, models.face_driver, models.tts_piper; print(sorted(m for m in ('onnxruntime', 'torch', "
            "'tensorrt') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_settings_travel_as_json_unchanged(tmp_path: Path) -> None:
    settings = AccelSettings(order=("cuda", "cpu"), models={"asr": ("cpu",)}, device_id=1, tensorrt_precision="int8",
                             cann=CannOptions(npu_mem_limit=1 << 30, precision_mode="force_fp32"), llm_gpu_layers=20,
                             engine_cache=tmp_path)
    assert AccelSettings.from_json(settings.to_json()) == settings


def test_the_config_names_every_model_and_defaults_to_the_full_order(tmp_path: Path) -> None:
    assert set(AccelModelsConfig.model_fields) == set(MODELS)
    cfg = load()
    assert cfg.accel.order == ["tensorrt", "cuda", "cann", "cpu"]
    settings = cfg.accel.settings()
    assert settings.order == ("tensorrt", "cuda", "cann", "cpu") and settings.models == {}
    assert load(overrides=["accel.models.asr=[cpu]"]).accel.settings().order_for("asr") == (("cpu",),
                                                                                          "accel.models.asr")
    assert set(EXECUTION_PROVIDER) == {"tensorrt", "cuda", "cann", "cpu"}


@pytest.mark.parametrize(("override", "key"), [
    ("accel.order=[tensorrt, gpu, cpu]", "accel.order.1"),
    ("accel.models.asr=[npu]", "accel.models.asr.0"),
    ("accel.models.voice=[cuda, cuda]", "accel.models.voice"),
    ("accel.order=[]", "accel.order"),
    ("accel.models.whisper=[cpu]", "accel.models.whisper"),
    ("accel.llm_gpu_layers=0", "accel.llm_gpu_layers"),
])
def test_a_bad_backend_in_the_config_names_its_key(override: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(overrides=[override])
    assert f": {key}: " in str(err.value)


def test_an_unwritable_engine_cache_only_costs_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         fake_ort: type[FakeSession]) -> None:
    simulate(monkeypatch, trt=True)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    session(str(build(tmp_path / "driver.onnx")), choice=choose("vad", AccelSettings(engine_cache=blocker)))
    (trt, options), *_ = fake_ort.made[-1].providers
    assert trt == "TensorrtExecutionProvider" and "trt_engine_cache_path" not in options


@pytest.mark.parametrize(("info", "backends"), [
    ("CUDA : ARCHS = 890 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | "
     "AVX2 = 1 | F16C = 1 | FMA = 1 | OPENMP = 1 | REPACK = 1 | ", ("CUDA",)),
    ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | LLAMAFILE = 1 | OPENMP = 1 | ", ()),
    ("", ()),
])
def test_llama_cpp_names_its_gpu_backends_in_its_system_info(info: str, backends: tuple[str, ...]) -> None:
    """Strings as llama.cpp 0.3.x prints them (a CUDA build and this machine's CPU build)."""
    assert probe.system_info_backends(info) == backends


def test_an_offloading_llama_cpp_on_an_npu_machine_is_a_cann_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """llama.cpp's CANN backend does not name itself in the system info: the NPU the CANN runtime sees does."""
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    monkeypatch.setattr(llama_cpp, "llama_print_system_info", lambda: b"CPU : NEON = 1 | ARM_FMA = 1 | ")
    for npus, backends in ((1, ("CANN",)), (0, ())):
        monkeypatch.setattr(probe, "ascend_devices", lambda n=npus: probe.Found(n, f"{n} Ascend NPU(s)"))
        probe.llama_gpu_backends.cache_clear()
        try:
            assert probe.llama_gpu_backends().value == backends
        finally:
            probe.llama_gpu_backends.cache_clear()


def test_ctranslate2_counting_a_gpu_without_cublas_and_cudnn_leaves_the_asr_on_the_cpu(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The PyPI CTranslate2 has CUDA compiled in and counts the GPUs of any box with a driver; its first encode
    then aborts the process if cuBLAS 12 or cuDNN 9 is missing (neither is here), so that is no GPU to use."""
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    probe.ct2_cuda_devices.cache_clear()
    try:
        found = probe.ct2_cuda_devices()
    finally:
        probe.ct2_cuda_devices.cache_clear()
    assert found.value == 0
    assert "sees 1 GPU(s) but cannot run on them without libcublas.so.12, libcudnn_ops.so.9" in found.note


def test_tensorrt_is_found_by_its_library_not_its_package() -> None:
    probe.tensorrt_version.cache_clear()
    try:
        found = probe.tensorrt_version()
    finally:
        probe.tensorrt_version.cache_clear()
    assert found == probe.Found("", found.note) and "no libnvinfer.so.10 or .8 on the library path" in found.note


def test_validate_refuses_an_order_nothing_here_can_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`accel.models.asr: [cuda]` on this CPU machine: refused before a kiosk crash-loops on it, naming the key and
    why cuda was skipped; the same model on [cuda, cpu] is fine."""
    from daemon.cli_kioskctl import main as kioskctl

    site = tmp_path / "site.yaml"
    site.write_text("accel:\n  models:\n    asr: [cuda]\n")
    assert kioskctl(["validate", str(site)]) == 1
    err = capsys.readouterr().err
    assert "accel.models.asr: none of [cuda] is usable for asr" in err and "get_cuda_device_count() is 0" in err
    site.write_text("accel:\n  models:\n    asr: [cuda, cpu]\n")
    assert kioskctl(["validate", str(site)]) == 0
