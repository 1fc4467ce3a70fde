"""Has the visitor finished their turn? What the audio says, from smart-turn v3 (an ONNX classifier).

smart-turn reads the last 8 seconds of the utterance (Whisper log-mel features of the waveform,
normalised to zero mean and unit variance, left-padded with silence) and gives the probability that the
turn is complete: falling pitch, a final lengthening, a breath — what a transcript cannot show. It is
most sure on real speech; on synthesised voices its answer means little, so the endpointer combines it
with the transcript's own verdict (models/completeness.py) and falls back to silence when neither is sure.

The embedded model is smart-turn-v3.2-cpu.onnx (BSD-2-Clause, Daily) from the pipecat-ai wheel,
installed without its dependencies; any other smart-turn v3 ONNX file can be named instead.
"""

from __future__ import annotations

import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor

from accel.providers import session
from accel.selection import Choice
from models.registry import ModelError, resolve

SAMPLE_RATE = 16000
WINDOW_S = 8
_NORM_EPS = 1e-7


class SmartTurn:
    def __init__(self, model: str = "embedded:smart-turn-v3.2", threads: int = 1, choice: Choice | None = None) -> None:
        path = resolve(model, "vad.turn_model")
        try:
            self._session = session(str(path), threads=threads, choice=choice)
        except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
            raise ModelError(f"vad.turn_model: cannot load {path}: {exc}") from None
        inputs = self._session.get_inputs()
        if [i.name for i in inputs] != ["input_features"] or inputs[0].shape[1:] != [80, WINDOW_S * 100]:
            raise ModelError(f"vad.turn_model: {path} is not a smart-turn v3 model "
                             f"(inputs {[(i.name, i.shape) for i in inputs]})")
        self._features = FeatureExtractor(feature_size=80)

    @property
    def provider(self) -> str:
        """The execution provider onnxruntime runs it on (what was asked for, unless that failed to load)."""
        return self._session.get_providers()[0]

    def __call__(self, pcm: np.ndarray) -> float:
        """Probability that the turn in `pcm` (16 kHz mono int16 or float, ending now) is complete."""
        audio = pcm.astype(np.float32) / 32768.0 if pcm.dtype == np.int16 else pcm.astype(np.float32)
        n = WINDOW_S * SAMPLE_RATE
        audio = audio[-n:] if len(audio) >= n else np.pad(audio, (n - len(audio), 0))
        audio = (audio - audio.mean()) / np.sqrt(audio.var() + _NORM_EPS)
        features = self._features(audio, padding=0)[:, : WINDOW_S * 100]
        return float(self._session.run(None, {"input_features": features[None].astype(np.float32)})[0][0, 0])
