"""Piper neural TTS (ONNX) with phoneme alignments: text -> int16 PCM + how many samples each phoneme lasts.

The embedded voice is patched on disk at set-up (`python -m piper.patch_voice_with_alignment`); a
user-supplied voice is patched in memory at load. Either way every sentence comes back with its
phoneme timing, which is what the mouth follows.

The onnxruntime session runs lean (no CPU arena, no memory patterns): both keep the high-water mark
of the longest sentence so far, which grew the voice worker steadily over a long soak; without them
memory goes back after each sentence, for a few percent of speed. Its optimised graph is cached on
disk when a cache is given and it runs on the CPU (see accel.providers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from accel.selection import Choice
from models.disk_cache import DiskCache, file_key, machine_key
from models.registry import EMBEDDED_PREFIX, ModelError
from models.tts import Speech

if TYPE_CHECKING:
    import onnxruntime


def patched_on_disk(setting: str) -> bool:
    """Whether the voice a `voice.model` setting names already carries phoneme alignments: the embedded voice is
    patched at set-up; a user's voice file is patched in memory when loaded."""
    return setting.startswith(EMBEDDED_PREFIX)


class PiperTts:
    def __init__(self, model: Path, length_scale: float = 1.0, patched: bool = False,
                 cache: DiskCache | None = None, choice: Choice | None = None) -> None:
        from piper import PiperVoice, SynthesisConfig
        from piper.config import PhonemeType, PiperConfig

        config = Path(f"{model}.json")
        if not config.is_file():
            raise ModelError(f"voice {model}: its config {config.name} is missing (Piper voices come as .onnx + .onnx.json)")
        try:
            settings = PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
            self._voice = PiperVoice(config=settings, session=_session(model, patched, cache, choice))
        except Exception as exc:  # onnxruntime, onnx and json raise many types for a broken file
            raise ModelError(f"voice {model}: cannot load ({type(exc).__name__}: {exc})") from None
        if settings.phoneme_type == PhonemeType.PINYIN:
            raise ModelError(f"voice {model}: reads pinyin, for which Piper downloads its g2pW model at run time: "
                             "use a voice whose config says an espeak language (cmn for Chinese)")
        # Sentences are peak-normalised by Piper; a little headroom keeps the AAC encoder from clipping.
        self._syn = SynthesisConfig(length_scale=length_scale, volume=0.9)
        self.rate: int = self._voice.config.sample_rate
        self.key = f"length_scale={length_scale}"

    @property
    def provider(self) -> str:
        """The execution provider onnxruntime runs it on (what was asked for, unless that failed to load)."""
        return self._voice.session.get_providers()[0]

    def synthesize(self, text: str) -> Speech:
        pcm: list[np.ndarray] = []
        phonemes: list[tuple[str, int]] = []
        total_drift = 0
        for chunk in self._voice.synthesize(text, self._syn, include_alignments=True):
            audio = chunk.audio_int16_array
            if chunk.phoneme_alignments is None:
                raise ModelError("voice: no phoneme alignments (the model lacks the alignment output)")
            timing = [(a.phoneme, int(a.num_samples)) for a in chunk.phoneme_alignments]
            # Alignment frames are rounded; give the clip's exact length to its last phoneme.
            drift = len(audio) - sum(n for _, n in timing)
            total_drift += drift
            if timing:
                last, n = timing[-1]
                timing[-1] = (last, max(0, n + drift))
            pcm.append(audio)
            phonemes += timing
        audio = np.concatenate(pcm) if pcm else np.zeros(0, np.int16)
        return Speech(audio, self.rate, phonemes, total_drift)


def voice_language(model: Path) -> str:
    """The espeak-ng language a Piper voice reads its text in ("en-us"), from its config beside it, without
    loading the model; ModelError when the config is missing or unreadable."""
    config = Path(f"{model}.json")
    try:
        return str(json.loads(config.read_text(encoding="utf-8"))["espeak"]["voice"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"voice {model}: cannot read its language from {config.name} ({type(exc).__name__}: {exc})") from None


def optimised_graph_key(model: Path, patched: bool) -> str:
    """The disk cache key of the voice's optimised CPU graph: the model file, how it was patched, onnxruntime, the CPU."""
    import onnxruntime

    return f"{file_key(model)}|patched={patched}|onnxruntime {onnxruntime.__version__}|{machine_key()}"


def voice_source(model: Path, patched: bool) -> str | bytes:
    """What onnxruntime loads: the file when it is patched already, else the graph patched in memory."""
    if patched:
        return str(model)
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    graph = onnx.load(str(model))
    try:
        add_alignment_output(graph)
    except ValueError:
        return str(model)  # already patched, or no duration tensor: synthesize() then says alignments are missing
    return graph.SerializeToString()


def _session(model: Path, patched: bool, cache: DiskCache | None, choice: Choice | None) -> onnxruntime.InferenceSession:
    from accel.providers import session

    source = voice_source(model, patched)
    optimised = cache.path(optimised_graph_key(model, patched), ".onnx") if cache is not None else None
    return session(source, threads=0, choice=choice, optimised=optimised, lean=True)
