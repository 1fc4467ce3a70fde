"""The voices a config names, loaded by what they are: a Piper .onnx, or espeak-ng's Mandarin
(`embedded:espeak-cmn`). The English voice is `voice.model`; the Chinese one, `voice.chinese`, must read Mandarin."""

from __future__ import annotations

from accel.selection import Choice
from models.disk_cache import DiskCache
from models.registry import ModelError, resolve
from models.tts import Tts
from models.tts_espeak import EspeakTts
from models.tts_piper import PiperTts, patched_on_disk, voice_language

ESPEAK_CMN = "embedded:espeak-cmn"
_MANDARIN = {"cmn", "zh"}  # espeak-ng's names of Mandarin ("zh" with a region: "zh-cn"); "yue" is Cantonese


def language_of(setting: str, key: str) -> str:
    """The espeak-ng language the voice `setting` names reads ("en-us", "cmn"); ModelError naming `key`."""
    path = resolve(setting, key)
    if setting == ESPEAK_CMN:
        return "cmn"
    try:
        return voice_language(path)
    except ModelError as exc:
        raise ModelError(f"{key}: {exc}") from None


def is_mandarin(language: str) -> bool:
    """Whether an espeak-ng language ("cmn", "zh-cn", "en-us") is Mandarin."""
    return language.lower().split("-")[0] in _MANDARIN


def check_mandarin(setting: str, key: str) -> None:
    """ModelError naming `key` unless the voice `setting` names reads Mandarin."""
    language = language_of(setting, key)
    if not is_mandarin(language):
        raise ModelError(f"{key}: {setting} reads {language}, not Mandarin (its config's espeak voice must be cmn)")


def load(setting: str, key: str, length_scale: float, cache: DiskCache | None = None,
         choice: Choice | None = None) -> Tts:
    """The voice `setting` names, ready to synthesise; ModelError naming `key` when it cannot be loaded."""
    path = resolve(setting, key)
    try:
        if setting == ESPEAK_CMN:
            return EspeakTts(path, "cmn", length_scale)
        return PiperTts(path, length_scale, patched=patched_on_disk(setting), cache=cache, choice=choice)
    except ModelError as exc:
        raise ModelError(f"{key}: {exc}") from None
