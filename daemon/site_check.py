"""Everything a config refers to, checked before a kiosk is asked to use it (`kioskctl validate`, and each
side of `kioskctl push`): the FAQ and dialogue load, the persona reads, the portrait has a face, the model
files exist and the embedded ones are intact. The schema alone would accept a config whose FAQ is not
YAML; this makes such a push fail on the operator's screen instead of in a lobby."""

from __future__ import annotations

from daemon.config import Config, ConfigError, resolve
from daemon.model_check import problems as model_problems
from daemon.portrait_check import check_portrait
from models.faq import FaqError, load_dialogue, load_faq
from models.registry import ModelError
from models.registry import resolve as resolve_model


def check_site(cfg: Config, *, models: bool = True) -> list[str]:
    """Warnings worth showing (several faces in the portrait); ConfigError naming the key of the first
    thing that cannot be used. `models=False` skips the model files (a push checks its files locally,
    the kiosk checks its models)."""
    b = cfg.brain
    try:
        load_faq(resolve(b.faq))
        load_dialogue(resolve(b.dialogue))
    except FaqError as exc:
        raise ConfigError(f"brain: {exc}") from None
    try:
        if not resolve(b.persona).read_text(encoding="utf-8").strip():
            raise ConfigError(f"brain.persona: {resolve(b.persona)} is empty")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"brain.persona: cannot read {resolve(b.persona)}: {exc}") from None
    notes = check_portrait(cfg.face.portrait)
    if models:
        _check_models(cfg)
    return notes


def _check_models(cfg: Config) -> None:
    settings = {"asr.model": cfg.asr.model, "voice.model": cfg.voice.model, "brain.llm.model": cfg.brain.llm.model,
                "vad.turn_model": cfg.vad.turn_model}
    try:
        for key, setting in settings.items():
            if setting is not None:
                resolve_model(setting, key)
        if cfg.face.driver:
            from models.face_driver import FaceDriver  # onnxruntime, only for a config that names a driver

            FaceDriver(cfg.face.driver)
    except ModelError as exc:
        raise ConfigError(str(exc)) from None
    damaged = model_problems(cfg)
    if damaged:
        raise ConfigError("embedded model files are damaged: " + "; ".join(damaged))
