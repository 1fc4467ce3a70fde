"""Silero VAD on onnxruntime: speech probability per 32 ms chunk (512 samples at 16 kHz), state carried."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accel.providers import session
from accel.selection import AccelUnavailable, Choice
from models.registry import ModelError, package_dir

SAMPLE_RATE = 16000
CHUNK = 512
_CONTEXT = 64  # samples of the previous chunk the model expects in front of each new one


def embedded_model() -> Path:
    return package_dir("silero_vad") / "data" / "silero_vad.onnx"


class SileroVad:
    def __init__(self, model: Path | None = None, choice: Choice | None = None) -> None:
        try:
            self._session = session(str(model or embedded_model()), choice=choice)
        except AccelUnavailable as exc:
            raise ModelError(f"vad: {exc}") from None
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self.reset()

    @property
    def provider(self) -> str:
        """The execution provider onnxruntime runs it on (what was asked for, unless that failed to load)."""
        return self._session.get_providers()[0]

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros((1, _CONTEXT), np.float32)

    def __call__(self, chunk: np.ndarray) -> float:
        """Probability that this chunk (512 int16 or float samples) is speech."""
        if chunk.shape != (CHUNK,):
            raise ValueError(f"Silero VAD takes chunks of {CHUNK} samples, got {chunk.shape}")
        x = chunk.astype(np.float32)
        if chunk.dtype == np.int16:
            x /= 32768.0
        x = np.concatenate([self._context, x[None, :]], axis=1)
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._context = x[:, -_CONTEXT:]
        return float(out[0, 0])
