"""Everything a config refers to, checked before a kiosk is asked to use it (`kioskctl validate`, and each
side of `kioskctl push`): the FAQ and dialogue load, the persona reads, the portrait has a face, the model
files exist and the embedded ones are intact, the Chinese voice reads Mandarin, and each model has a backend
it can run on here. The schema alone would accept a config whose FAQ is not YAML; this makes such a push
fail on the operator's screen instead of in a lobby."""

from __future__ import annotations

from pathlib import Path

from accel.backends import MODELS
from daemon.config import MULTILINGUAL_ASR, Config, ConfigError, resolve
from daemon.model_check import problems as model_problems
from daemon.portrait_check import check_portrait
from models.faq import FaqError, load_dialogue, load_faq
from models.registry import ModelError
from models.registry import resolve as resolve_model
from models.voices import check_mandarin


def check_site(cfg: Config) -> list[str]:
    """Warnings worth showing (several faces in the portrait); ConfigError naming the key of the first
    thing that cannot be used."""
    b = cfg.brain
    check_faq(resolve(b.faq), "brain.faq")
    try:
        load_dialogue(resolve(b.dialogue))
    except FaqError as exc:
        raise ConfigError(f"brain.dialogue: {exc}") from None
    check_persona(resolve(b.persona), "brain.persona")
    notes = check_portrait(cfg.face.portrait)
    _check_models(cfg)
    return notes


def check_faq(path: Path, key: str) -> None:
    try:
        load_faq(path)
    except FaqError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def check_persona(path: Path, key: str) -> None:
    try:
        if not path.read_text(encoding="utf-8").strip():
            raise ConfigError(f"{key}: {path} is empty")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{key}: cannot read {path}: {exc}") from None


def _check_models(cfg: Config) -> None:
    settings = {"asr.model": cfg.asr.model_used(), "voice.model": cfg.voice.model, "brain.llm.model": cfg.brain.llm.model,
                "vad.turn_model": cfg.vad.turn_model}
    try:
        for key, setting in settings.items():
            if setting is not None:
                resolve_model(setting, key)
        check_mandarin(cfg.voice.chinese, "voice.chinese")
        if cfg.face.driver:
            from models.face_driver import FaceDriver  # onnxruntime, only for a config that names a driver

            FaceDriver(cfg.face.driver)
        if cfg.asr.language != "en" and cfg.asr.model_used() != MULTILINGUAL_ASR:
            # Whether a site's own Whisper knows Chinese is only known by loading it.
            from models.asr_whisper import WhisperAsr

            WhisperAsr(cfg.asr.model_used(), cfg.asr.language, compute_type=cfg.asr.compute_type, threads=1)
    except ModelError as exc:
        raise ConfigError(str(exc)) from None
    damaged = model_problems(cfg)
    if damaged:
        raise ConfigError("embedded model files are damaged: " + "; ".join(damaged))
    _check_backends(cfg)


def _check_backends(cfg: Config) -> None:
    """Every model the config uses has a usable backend in its `accel` order (one without `cpu` may have none)."""
    for model in (m for m in MODELS if cfg.model_setting(m)[1] is not None):
        choice = cfg.accel.choose(model)
        if choice.backend is None:
            raise ConfigError(choice.why)
