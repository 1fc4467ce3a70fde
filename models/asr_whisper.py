"""Speech to text with faster-whisper (CTranslate2): any Whisper model folder, int8 on the CPU by default, on a
GPU when accel/ chooses CUDA for the asr (int8_float16 or float16 there).

Whisper's encoder is built for 30-second windows and faster-whisper always pads to one: for a 2-second
question most of the decode time goes on silence. A kiosk utterance is a few seconds, so it is encoded
in a shorter window padded with real silence: at least MIN_WINDOW_S and TAIL_PAD_S longer than the
speech. Shorter windows than that make tiny.en loop ("What are your opening hours? What are your...");
this one costs a fraction of a full window. Audio too long for the window
takes faster-whisper's normal path.
"""

from __future__ import annotations

import numpy as np
from ctranslate2 import StorageView
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer

from accel.placement import whisper_device
from accel.selection import Choice
from models.registry import ModelError, resolve

SAMPLE_RATE = 16000
FULL_WINDOW_S = 30
MIN_WINDOW_S = 10.0
TAIL_PAD_S = 4.0  # silence after the speech: with less, tiny.en tends to loop on the last sentence
TOKENS_PER_S = 8  # fast speech is ~4 tokens a second; more means the decoder is looping
NO_SPEECH = 0.6  # Whisper's own no-speech probability above which the audio is taken as silence


class WhisperAsr:
    def __init__(self, model: str, language: str | None = "en", beam_size: int = 1,
                 compute_type: str = "int8", threads: int = 2, choice: Choice | None = None) -> None:
        path = resolve(model, "asr.model")
        try:
            device, index, compute_type = whisper_device(choice, compute_type)
            self.model = WhisperModel(str(path), device=device, device_index=index, compute_type=compute_type,
                                      cpu_threads=threads, num_workers=1)
        except (RuntimeError, ValueError, OSError) as exc:  # AccelUnavailable is a RuntimeError too
            raise ModelError(f"asr.model: cannot load a Whisper model from {path}: {exc}") from None
        self.language = language if self.model.model.is_multilingual else "en"
        self.beam_size = beam_size
        tok = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe",
                        language=self.language)
        self._tokenizer = tok
        self._prompt = [*tok.sot_sequence, tok.no_timestamps]

    def transcribe(self, pcm: np.ndarray) -> str:
        """Transcript of 16 kHz mono int16 (or float32 in [-1, 1]) audio."""
        audio = pcm.astype(np.float32) / 32768.0 if pcm.dtype == np.int16 else pcm.astype(np.float32)
        seconds = len(audio) / SAMPLE_RATE
        if seconds + TAIL_PAD_S > FULL_WINDOW_S:
            return self._long_form(audio)
        window = max(MIN_WINDOW_S, seconds + TAIL_PAD_S)
        padded = np.zeros(int(window * SAMPLE_RATE), np.float32)
        padded[: len(audio)] = audio
        features = self.model.feature_extractor(padded)
        encoded = self.model.model.encode(StorageView.from_array(features[None]), to_cpu=False)
        # Greedy Whisper can loop on a sentence; cap the length by the audio and forbid repeated 4-grams.
        result = self.model.model.generate(
            encoded, [self._prompt], beam_size=self.beam_size, max_length=int(10 + TOKENS_PER_S * seconds),
            suppress_blank=True, suppress_tokens=[-1], no_repeat_ngram_size=4, return_no_speech_prob=True,
        )[0]
        if result.no_speech_prob > NO_SPEECH:
            return ""
        return self._tokenizer.decode(result.sequences_ids[0]).strip()

    def _long_form(self, audio: np.ndarray) -> str:
        segments, _ = self.model.transcribe(
            audio, language=self.language, beam_size=self.beam_size, vad_filter=False,
            condition_on_previous_text=False, without_timestamps=True,
        )
        return " ".join(s.text.strip() for s in segments).strip()
