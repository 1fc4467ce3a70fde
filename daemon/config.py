"""Configuration schema (pydantic) and layered loading.

Layers, later wins: configs/default.yaml < profile < site file < ``-o key.path=value``.
Unknown keys are errors; every error names the key path that is wrong.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from accel.backends import DEFAULT_ORDER, Backend
from accel.selection import Choice, choose
from accel.settings import AccelSettings, CannOptions, Precision
from daemon.opening_hours import Rule, parse
from daemon.paths import cache_dir, state_dir
from models.routing import Thresholds
from models.whisper_installed import upgrade

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_FILE = CONFIG_DIR / "default.yaml"
# The site file: a release pushed by `kioskctl push` (daemon/releases.py), else one written by hand.
SITE_FILES = (Path("/etc/kioskd/current/kioskd.yaml"), Path("/etc/kioskd/kioskd.yaml"))


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key path and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AudioInConfig(_Strict):
    source: str = Field("mic", description="'mic', 'none' or the path of a WAV file fed at real-time pace")
    device: str | int | None = Field(None, description="microphone name (substring) or index; None = default")
    retry_s: float = Field(3.0, gt=0, description="seconds between attempts to open a missing microphone")
    aec: bool = Field(True, description="cancel the kiosk's own voice from the microphone (SpeexDSP)")
    echo_gain: float = Field(0.0, ge=0, le=1, description="test stand-in for the room: mix this much of what the "
                                                         "speaker plays back into the input (0: off)")
    echo_delay_ms: int = Field(40, ge=0, le=500, description="delay of that simulated speaker-to-microphone path")


class VadConfig(_Strict):
    threshold: float = Field(0.5, gt=0, lt=1, description="Silero probability that starts speech")
    neg_threshold: float = Field(0.35, gt=0, lt=1, description="probability below which a chunk is silence")
    min_speech_ms: int = Field(250, ge=0, description="shorter bursts (coughs, clicks) open no turn")
    end_silence_ms: int = Field(500, ge=60, description="trailing silence that ends an utterance no verdict "
                                "shortens: finished words whose voice verdict is late, or speculation off")
    speculate_ms: int = Field(96, ge=0, description="a pause this long is judged at once: smart-turn and a "
                              "speculative transcription (0: off, silence alone decides)")
    end_silence_hesitant_ms: int = Field(1000, ge=60, description="trailing silence after a pause that sounds "
                                         "unfinished (a rising voice, a filler, 'and', 'the')")
    turn_model: str | None = Field("embedded:smart-turn-v3.2", description="end-of-turn classifier (a smart-turn v3 "
                                   "ONNX file); null: the transcript alone judges a pause")
    turn_complete: float = Field(0.85, gt=0, le=1, description="smart-turn probability at which the turn ends "
                                 "without waiting for the transcript")
    turn_incomplete: float = Field(0.3, ge=0, lt=1, description="at or below this, the visitor is taken to be "
                                   "mid-sentence: wait end_silence_hesitant_ms")
    rejoin_ms: int = Field(1000, ge=0, le=3000, description="speech starting again this soon after an utterance "
                           "ended carries it on: the reply to the fragment is dropped, the whole answered (0: off)")
    preroll_ms: int = Field(300, ge=0, description="audio kept before speech start so ASR hears the first syllable")
    max_utterance_s: float = Field(15.0, gt=1, description="an utterance is cut cleanly at this length")
    webrtc_mode: int | None = Field(2, ge=0, le=3, description="WebRTC VAD aggressiveness gating Silero; null: off")
    min_level_dbfs: float = Field(-50.0, le=0, description="quieter chunks are never speech (distant chatter, hum)")
    echo_margin_db: float = Field(6.0, ge=0, le=40, description="while the kiosk speaks, the microphone must be this "
                                  "much above its own voice to count as the visitor (echo gate)")
    barge_in_ms: int = Field(96, ge=32, le=1000, description="visitor speech this long interrupts the reply")

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> VadConfig:
        if self.neg_threshold >= self.threshold:
            raise ValueError("neg_threshold must be below threshold")
        if self.turn_incomplete >= self.turn_complete:
            raise ValueError("turn_incomplete must be below turn_complete")
        return self


MULTILINGUAL_ASR = "embedded:whisper-base"  # the embedded Whisper that hears Chinese (tiny.en hears English only)


class AsrConfig(_Strict):
    model: str = Field("embedded:tiny.en", description="'embedded:tiny.en' or a CTranslate2 Whisper folder; with "
                       f"language zh or auto the embedded default is {MULTILINGUAL_ASR} (tiny.en knows only English)")
    language: Literal["en", "zh", "auto"] = Field("en", description="what visitors speak: en (fastest), zh "
                                                  "(Mandarin), or auto (each utterance's language is detected, "
                                                  "and the reply, voice and captions follow it)")
    beam_size: int = Field(1, ge=1, le=10)
    compute_type: str = "int8"
    threads: int = Field(2, ge=1, le=64)

    def model_used(self) -> str:
        """The model setting the ASR loads: the embedded English default is swapped for the multilingual one
        when visitors may speak anything but English."""
        if self.language != "en" and self.model == type(self).model_fields["model"].default:
            return MULTILINGUAL_ASR
        return self.model

    def bigger_on(self, backend: str | None) -> tuple[Path | None, str]:
        """The installed Whisper that replaces the embedded default on `backend`, or None; and why."""
        return upgrade(self.model, type(self).model_fields["model"].default, self.model_used(), backend)


class LlmConfig(_Strict):
    model: str | None = Field("embedded:gemma3-270m", description="'embedded:NAME', a .gguf path, or null for "
                              "FAQ-only (no LLM loaded: what the FAQ does not answer gets the referral line)")
    url: str | None = Field(None, description="an OpenAI-compatible chat-completions server (vLLM, Ollama, "
                            "llama.cpp server), e.g. http://10.0.0.5:8000/v1; the local model answers when it fails")
    remote_model: str = Field("default", description="the model name sent to that server")
    connect_timeout_s: float = Field(1.0, gt=0, le=30, description="give up on the server after this long")
    first_token_timeout_s: float = Field(1.5, gt=0, le=60, description="... or when no text came this long")
    max_tokens: int = Field(48, ge=1, le=1024)
    first_sentence_s: float = Field(0.9, gt=0, le=60, description="a reply with no checked sentence this long "
                                    "after the question is given up for the referral line: nobody waits longer")
    temperature: float = Field(0.2, ge=0, le=2)
    threads: int = Field(2, ge=1, le=64)
    context: int = Field(1024, ge=256, le=32768)


_T = Thresholds()  # the router's own defaults


class RoutingConfig(_Strict):
    """Similarity thresholds of the router (models/routing.py); calibrate with `python -m bench.routing_bench`."""

    faq: float = Field(_T.faq, gt=0, lt=1, description="the nearest FAQ question must be at least this similar ...")
    faq_margin: float = Field(_T.faq_margin, ge=0, lt=1, description="... and its entry this far ahead of the runner-up")
    smalltalk: float = Field(_T.smalltalk, gt=0, lt=1, description="a small-talk phrase this similar is answered as such")
    llm: float = Field(_T.llm, gt=0, lt=1, description="below this, nothing in the FAQ is related: referral")
    offtopic_margin: float = Field(_T.offtopic_margin, ge=-1, lt=1, description="an off-topic example this far ahead "
                                   "of the nearest FAQ question makes the question off-topic")
    faq_guarded: float = Field(_T.faq_guarded, gt=0, lt=1, description="a question that names a topic the LLM never "
                               "answers (dialogue never_llm) needs an FAQ question this similar to get that FAQ answer")

    def thresholds(self) -> Thresholds:
        return Thresholds(**self.model_dump())


class BrainConfig(_Strict):
    faq: Path = Field(Path("faq/bank-lobby.yaml"), description="FAQ file, relative to configs/")
    dialogue: Path = Field(Path("dialogue/bank-lobby.yaml"), description="referral line, small talk, off-topic "
                           "examples and topics the LLM never answers; relative to configs/")
    persona: Path = Field(Path("persona/bank-lobby.txt"), description="persona prompt, relative to configs/")
    routing: RoutingConfig = RoutingConfig()
    conversation_timeout_s: float = Field(45.0, gt=0, description="a conversation idle this long is over: the next "
                                          "question starts afresh (a new visitor)")
    llm: LlmConfig = LlmConfig()


class VoiceConfig(_Strict):
    model: str = Field("embedded:en_US-joe-medium", description="'embedded:en_US-joe-medium' or a Piper .onnx")
    chinese: str = Field("embedded:espeak-cmn", description="the voice of replies in Chinese: 'embedded:espeak-cmn' "
                         "(espeak-ng's Mandarin) or a Piper .onnx whose config says espeak cmn. Loaded at start, "
                         "its answers made ready, when asr.language is zh or auto; else at the first Chinese "
                         "sentence (a typed question, `kioskctl say`)")
    length_scale: float = Field(1.0, gt=0.3, lt=3, description="speaking pace, both voices: above 1 slower")
    cache_faq: bool = Field(True, description="synthesise the first sentence of every FAQ answer at start-up, "
                                              "so an FAQ reply starts without waiting for the voice")
    openers: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]] = Field(
        ["Yes,", "No,", "Sure,", "Of course,", "Certainly,", "Well,", "Sorry,", "I'm sorry,", "Unfortunately,"],
        max_length=50,
        description="reply openings synthesised at start-up too: an LLM reply is spoken from its first clause, "
                    "and when that is one of these it plays at once instead of after its synthesis")


class FaceConfig(_Strict):
    portrait: str = Field("embedded:astronaut", description="'embedded:astronaut' or an image file")
    display: Literal["offscreen", "window", "fullscreen"] = "fullscreen"
    size: tuple[int, int] = Field((960, 540), description="window/offscreen size in pixels (fullscreen: native)")
    fps: int = Field(30, ge=5, le=120)
    captions: bool = True
    greeting: str = "Hello! Ask me anything about our branch."
    driver: str | None = Field(None, description="a Wav2Lip-style ONNX model (models/face_driver.py) that draws the "
                               "mouth while the kiosk speaks, in a process of its own; null: the rig alone")
    driver_max_lag_ms: int = Field(100, ge=0, le=1000, description="a driver answer older than this is not shown: "
                                   "the rig draws the mouth instead")


class SupervisorConfig(_Strict):
    ready_timeout_s: float = Field(120.0, gt=0, description="workers must report ready within this time")
    drain_timeout_s: float = Field(60.0, gt=0, description="after input ends, wait this long for open turns")


class ScheduleConfig(_Strict):
    open: list[str] = Field(default_factory=list, description="when the kiosk is open, in local time: rules such as "
                            "'mon-fri 09:00-17:30', 'sat 10:00-13:00' (daemon/opening_hours.py); outside them the "
                            "screen sleeps and the microphone is not listened to. Empty: always open")

    @field_validator("open")
    @classmethod
    def _rules_parse(cls, rules: list[str]) -> list[str]:
        for rule in rules:
            parse(rule)  # its ValueError names the rule and what is wrong
        return rules

    def rules(self) -> list[Rule]:
        return [parse(r) for r in self.open]


class PrivacyConfig(_Strict):
    log_transcripts: bool = Field(False, description="put what visitors said and what the kiosk answered in the "
                                  "logs and the --events file (digit runs masked even then); off: timings and "
                                  "sources only")


class ApiConfig(_Strict):
    listen: str | None = Field("127.0.0.1:8377", description="HOST:PORT of the HTTP API and /metrics (README "
                               "'HTTP API'); null: no API. Loopback by default: nothing is reachable from the network "
                               "unless the site asks")
    token_file: Path | None = Field(None, description="the bearer token the API's calls need (but /healthz, /readyz, "
                                    "/metrics); created 0600 when missing. null: api-token in the state directory "
                                    "(/var/lib/kioskd for root)")

    @field_validator("listen")
    @classmethod
    def _host_port(cls, listen: str | None) -> str | None:
        if listen is not None:
            host, sep, port = listen.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:8377")
        return listen

    def token(self) -> Path:
        return self.token_file or state_dir() / "api-token"


Order = Annotated[list[Backend], Field(min_length=1)]


def _distinct(order: list[Backend] | None) -> list[Backend] | None:
    if order is not None and len(set(order)) != len(order):
        raise ValueError("a backend is named twice")
    return order


class AccelModelsConfig(_Strict):
    """Per-model orders that replace accel.order for that model (README "Accelerators")."""

    vad: Order | None = None
    turn_end: Order | None = None
    voice: Order | None = None
    face_driver: Order | None = None
    asr: Order | None = None
    llm: Order | None = None

    _distinct_orders = field_validator("*")(_distinct)


class CannConfig(_Strict):
    """onnxruntime's CANN execution provider options, by their own names."""

    arena_extend_strategy: Literal["kNextPowerOfTwo", "kSameAsRequested"] = "kNextPowerOfTwo"
    npu_mem_limit: int | None = Field(None, gt=0, description="bytes of NPU memory its arena may take; null: all")
    precision_mode: Literal["force_fp32", "force_fp16", "allow_fp32_to_fp16", "must_keep_origin_dtype",
                            "allow_mix_precision"] = "force_fp16"
    op_select_impl_mode: Literal["high_performance", "high_precision"] = "high_performance"


class AccelConfig(_Strict):
    order: Order = Field(list(DEFAULT_ORDER), description="backends each model tries, best first: the first usable "
                         "one runs it (`kioskctl doctor` says which and why)")
    models: AccelModelsConfig = AccelModelsConfig()
    device_id: int = Field(0, ge=0, description="the GPU or NPU the accelerated models use")
    tensorrt_precision: Precision = Field("fp16", description="fp16, fp32, or int8 (a QDQ-quantised model)")
    cann: CannConfig = CannConfig()
    llm_gpu_layers: int = Field(-1, ge=-1, description="llama.cpp layers offloaded to the GPU or NPU (-1: all); to "
                                "keep the LLM on the CPU, set accel.models.llm: [cpu]")

    @field_validator("llm_gpu_layers")
    @classmethod
    def _offloads_something(cls, value: int) -> int:
        if value == 0:
            raise ValueError("0 offloads nothing: use -1 (all) or a number of layers, or accel.models.llm: [cpu]")
        return value

    _distinct_order = field_validator("order")(_distinct)

    def settings(self) -> AccelSettings:
        """The accel package's view: plain data, with the TensorRT engine cache in the kiosk's cache folder."""
        models = {name: tuple(order) for name, order in self.models.model_dump().items() if order is not None}
        return AccelSettings(tuple(self.order), models, self.device_id, self.tensorrt_precision,
                             CannOptions(**self.cann.model_dump()), self.llm_gpu_layers, cache_dir() / "tensorrt")

    def choose(self, model: str) -> Choice:
        """The backend `model` (a name of accel.backends.MODELS) runs on here, probed now."""
        return choose(model, self.settings())


class Config(_Strict):
    site: str = "Example Bank, main branch"
    audio_in: AudioInConfig = AudioInConfig()
    vad: VadConfig = VadConfig()
    asr: AsrConfig = AsrConfig()
    brain: BrainConfig = BrainConfig()
    voice: VoiceConfig = VoiceConfig()
    face: FaceConfig = FaceConfig()
    supervisor: SupervisorConfig = SupervisorConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    api: ApiConfig = ApiConfig()
    accel: AccelConfig = AccelConfig()

    def model_setting(self, model: str) -> tuple[str, str | None]:
        """The config key naming `model`'s file (a name of accel.backends.MODELS), and its value (None: the
        config does not use that model)."""
        return {"vad": ("(built in)", "embedded Silero VAD"), "turn_end": ("vad.turn_model", self.vad.turn_model),
                "voice": ("voice.model", self.voice.model), "face_driver": ("face.driver", self.face.driver),
                "asr": ("asr.model", self.asr.model_used()), "llm": ("brain.llm.model", self.brain.llm.model)}[model]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, got {type(data).__name__}")
    return data


def parse_override(text: str) -> dict[str, Any]:
    """Turn ``a.b.c=value`` into ``{"a": {"b": {"c": value}}}``; the value is parsed as YAML."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {text!r}: expected key.path=value")
    value = yaml.safe_load(raw) if raw.strip() else ""
    node: dict[str, Any] = {}
    parts = key.strip().split(".")
    cursor = node
    for part in parts[:-1]:
        cursor[part] = {}
        cursor = cursor[part]
    cursor[parts[-1]] = value
    return node


def _format_errors(source: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        got = "" if err["type"] == "extra_forbidden" else f" (got {err.get('input')!r})"
        lines.append(f"{source}: {path}: {reason}{got}")
    return "\n".join(lines)


def validate(data: dict[str, Any], source: str = "config") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(source, exc)) from None


def site_file() -> Path | None:
    env = os.environ.get("KIOSKD_CONFIG")
    if env:
        return Path(env)
    return next((path for path in SITE_FILES if path.exists()), None)


def load(
    *,
    profile: str | None = None,
    site: Path | None = None,
    overrides: list[str] | None = None,
) -> Config:
    """Load and validate the layered configuration; raises ConfigError naming the bad layer and key."""
    data = _read_yaml(DEFAULT_FILE)
    layers: list[tuple[str, dict[str, Any]]] = []
    if profile:
        path = CONFIG_DIR / "profiles" / f"{profile}.yaml"
        if not path.exists():
            known = sorted(p.stem for p in (CONFIG_DIR / "profiles").glob("*.yaml"))
            raise ConfigError(f"profile {profile!r}: not found (known: {', '.join(known)})")
        layers.append((str(path), _read_yaml(path)))
    site = site or site_file()
    if site:
        layers.append((str(site), _read_yaml(site)))
    for text in overrides or []:
        layers.append((f"override {text!r}", parse_override(text)))
    validate(data, str(DEFAULT_FILE))
    for source, layer in layers:
        # Validate each layer on top of what came before so an error names the layer that made it.
        data = _merge(data, layer)
        validate(data, source)
    return validate(data)


def resolve(path: Path) -> Path:
    """Config paths are relative to configs/ unless absolute."""
    return path if path.is_absolute() else CONFIG_DIR / path
