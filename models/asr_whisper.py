"""Speech to text with faster-whisper (CTranslate2): any Whisper model folder, int8 on the CPU by default, on a
GPU when accel/ chooses CUDA for the asr (int8_float16 or float16 there).

Whisper's encoder is built for 30-second windows and faster-whisper always pads to one: for a 2-second
question most of the decode time goes on silence. A kiosk utterance is a few seconds, so it is encoded
in a shorter window padded with real silence: at least MIN_WINDOW_S and TAIL_PAD_S longer than the
speech. Shorter windows than that make tiny.en loop ("What are your opening hours? What are your...");
this one costs a fraction of a full window. Audio too long for the window
takes faster-whisper's normal path.

Languages: English ("en"), Mandarin ("zh"), or either ("auto": each utterance's language is detected from
the features already encoded, between those two only). Mandarin is written in Simplified characters: Whisper
writes Traditional ones as often as not (most of one of the test clips), so its text goes through OpenCC's t2s.

No previous-text prompt: two were tried on real Mandarin (bench/asr_languages.py's clips and a third, clean
and with noise at 20, 10 and 5 dB SNR). "以下是普通话的句子。" left the character error rate where it was
(0.273 without, 0.278 with, pooled over 24 conditions) and made silence come out as a sentence ("我认为你。",
Whisper's no-speech probability falling from 0.81 to 0.45); the site FAQ's Chinese words doubled it on speech
that did not use them (0.136 to 0.284 on the clean clips) for a small gain on speech that did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ctranslate2 import StorageView
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from opencc import OpenCC

from accel.placement import whisper_device
from accel.selection import Choice
from models.registry import ModelError, resolve

SAMPLE_RATE = 16000
FULL_WINDOW_S = 30
MIN_WINDOW_S = 10.0
TAIL_PAD_S = 4.0  # silence after the speech: with less, tiny.en tends to loop on the last sentence
# Tokens a second above which the decoder is taken to be looping: fast English is ~4 a second; fast Mandarin
# ~6 characters of 1-2 tokens each (the Spark clip of tests/test_asr_zh.py: 83 tokens in 10 s).
TOKENS_PER_S = {"en": 8, "zh": 16}
# Whisper's own no-speech probability above which the audio is taken as silence. whisper-base in Mandarin: at
# most 0.48 on the noisy speech above, at least 0.61 on silence, a hum, a click and white noise.
NO_SPEECH = 0.6
LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Heard:
    """A transcript and the language it was heard in ("en" or "zh")."""

    text: str
    language: str


class WhisperAsr:
    def __init__(self, model: str, language: str = "en", beam_size: int = 1, compute_type: str = "int8",
                 threads: int = 2, choice: Choice | None = None) -> None:
        if language not in (*LANGUAGES, "auto"):
            raise ModelError(f"asr.language: {language!r} is none of en, zh, auto")
        path = resolve(model, "asr.model")
        try:
            device, index, compute_type = whisper_device(choice, compute_type)
            self.model = WhisperModel(str(path), device=device, device_index=index, compute_type=compute_type,
                                      cpu_threads=threads, num_workers=1)
        except (RuntimeError, ValueError, OSError) as exc:  # AccelUnavailable is a RuntimeError too
            raise ModelError(f"asr.model: cannot load a Whisper model from {path}: {exc}") from None
        multilingual = self.model.model.is_multilingual
        if language != "en" and not multilingual:
            raise ModelError(f"asr.model: {path} is an English-only Whisper, and asr.language is {language}: set "
                             "asr.model to a multilingual Whisper (the embedded default becomes whisper-base then)")
        self.language = language
        self.beam_size = beam_size
        self._tokenizers = {lang: Tokenizer(self.model.hf_tokenizer, multilingual, task="transcribe", language=lang)
                            for lang in (LANGUAGES if language == "auto" else (language,))}
        self._prompts = {lang: [*tok.sot_sequence, tok.no_timestamps] for lang, tok in self._tokenizers.items()}
        self._t2s = OpenCC("t2s")

    def transcribe(self, pcm: np.ndarray) -> Heard:
        """Transcript of 16 kHz mono int16 (or float32 in [-1, 1]) audio, and its language."""
        audio = pcm.astype(np.float32) / 32768.0 if pcm.dtype == np.int16 else pcm.astype(np.float32)
        seconds = len(audio) / SAMPLE_RATE
        if seconds + TAIL_PAD_S > FULL_WINDOW_S:
            return self._long_form(audio)
        encoded = self.encode(audio)
        language = self.detect(encoded) if self.language == "auto" else self.language
        prompt = self._prompts[language]
        # Greedy Whisper can loop on a sentence; cap the length by the audio and forbid repeated 4-grams.
        result = self.model.model.generate(
            encoded, [prompt], beam_size=self.beam_size, max_length=int(10 + TOKENS_PER_S[language] * seconds),
            suppress_blank=True, suppress_tokens=[-1], no_repeat_ngram_size=4, return_no_speech_prob=True,
        )[0]
        if result.no_speech_prob > NO_SPEECH:
            return Heard("", language)
        return self._written(self._tokenizers[language].decode(result.sequences_ids[0]), language)

    def encode(self, audio: np.ndarray) -> StorageView:
        """Whisper's encoding of float32 audio up to FULL_WINDOW_S - TAIL_PAD_S long, in the short window."""
        window = max(MIN_WINDOW_S, len(audio) / SAMPLE_RATE + TAIL_PAD_S)
        padded = np.zeros(int(window * SAMPLE_RATE), np.float32)
        padded[: len(audio)] = audio
        # A full window makes one frame more than the encoder takes (its last hop's).
        features = self.model.feature_extractor(padded)[:, : self.model.feature_extractor.nb_max_frames]
        return self.model.model.encode(StorageView.from_array(np.ascontiguousarray(features)[None]), to_cpu=False)

    def detect(self, encoded: StorageView) -> str:
        """The more probable of English and Mandarin in `encoded`: Whisper's other 97 languages are not asked,
        so an accent it takes for, say, Welsh is still heard as one of the two."""
        probs = dict(self.model.model.detect_language(encoded)[0])
        return max(LANGUAGES, key=lambda lang: probs[f"<|{lang}|>"])

    def _long_form(self, audio: np.ndarray) -> Heard:
        language = self.language
        if language == "auto":  # from its first window
            language = self.detect(self.encode(audio[: int((FULL_WINDOW_S - TAIL_PAD_S) * SAMPLE_RATE)]))
        # Greedy, as in the short window: faster-whisper's fallback to sampling at higher temperatures would
        # make the same audio give different transcripts.
        segments, _ = self.model.transcribe(
            audio, language=language, beam_size=self.beam_size, temperature=0.0, vad_filter=False,
            condition_on_previous_text=False, without_timestamps=True,
        )
        between = "" if language == "zh" else " "  # Chinese puts no space between sentences
        return self._written(between.join(s.text.strip() for s in segments), language)

    def _written(self, text: str, language: str) -> Heard:
        text = text.strip()
        return Heard(self._t2s.convert(text) if language == "zh" else text, language)
