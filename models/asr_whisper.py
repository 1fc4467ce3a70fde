"""Speech to text with faster-whisper (CTranslate2): any Whisper model folder, int8 on the CPU by default."""

from __future__ import annotations

import numpy as np
from faster_whisper import WhisperModel

from models.registry import ModelError, resolve


class WhisperAsr:
    def __init__(self, model: str, language: str | None = "en", beam_size: int = 1,
                 compute_type: str = "int8", threads: int = 2) -> None:
        path = resolve(model, "asr.model")
        try:
            self.model = WhisperModel(str(path), device="cpu", compute_type=compute_type,
                                      cpu_threads=threads, num_workers=1)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"asr.model: cannot load a Whisper model from {path}: {exc}") from None
        self.language = language
        self.beam_size = beam_size

    def transcribe(self, pcm: np.ndarray) -> str:
        """Transcript of 16 kHz mono int16 (or float32 in [-1, 1]) audio."""
        audio = pcm.astype(np.float32) / 32768.0 if pcm.dtype == np.int16 else pcm.astype(np.float32)
        segments, _ = self.model.transcribe(
            audio, language=self.language, beam_size=self.beam_size, vad_filter=False,
            condition_on_previous_text=False, without_timestamps=True,
        )
        return " ".join(s.text.strip() for s in segments).strip()
