"""espeak-ng (formant synthesis) as a voice: text -> int16 PCM + how many samples each phoneme lasts, from the
phoneme events espeak-ng reports, at their exact sample, while it synthesises.

The embedded Chinese voice (`embedded:espeak-cmn`) is espeak-ng 1.52's Mandarin, `cmn`, from the
espeakng-loader package, which carries the library and its data (Debian 12's espeak-ng 1.51 garbles
Mandarin). It sounds robotic but says every character with its tone, and reads Latin letters as English
("ATM" as A-T-M), as a Chinese speaker does. The library is GPL-3.0: it is loaded with ctypes as the separate
shared library it ships as.

espeak-ng keeps one synthesiser per process, in global state (its voice, rate, callback): the library is
loaded and initialised once per process, and every sentence is synthesised under one lock, so `EspeakTts`
objects may be made and used from any thread; they take turns.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np

from models.registry import ModelError
from models.tts import Speech

# speak_lib.h
_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: the audio comes back through the callback, before espeak_Synth returns
_PHONEME_EVENTS = 0x0001  # espeakINITIALIZE_PHONEME_EVENTS
_PHONEME_IPA = 0x0002  # ... named in IPA, as Piper's alignments are, so one viseme table serves both voices
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_RATE = 1  # espeakRATE, words a minute
_EVENT_LIST_END = 0
_EVENT_PHONEME = 7

WORDS_PER_MINUTE = 200  # espeak-ng's own 175 is 4.0 Mandarin syllables a second; 200 is 4.7, a receptionist's pace
# Between two Mandarin words espeak-ng leaves 10-40 ms of silence, at a comma 150 ms, at a full stop 300 ms: only
# the longer ones are pauses the mouth rests in; within a phrase it goes on to the next syllable.
PAUSE_MS = 80
PEAK = 0.9  # of full scale: Piper peak-normalises each sentence to this too, so the two voices are as loud


def data_folder(library: Path) -> Path:
    """espeak-ng's data, beside the library as espeakng-loader lays them out."""
    return library.parent / "espeak-ng-data"


class _Id(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _Id)]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class _Engine:
    """The process's espeak-ng: loaded, initialised and given its callback once."""

    def __init__(self, library: Path) -> None:
        try:
            lib = ctypes.CDLL(str(library))
        except OSError as exc:
            raise ModelError(f"espeak-ng {library}: cannot load ({exc})") from None
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        data = data_folder(library)
        self.rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, str(data).encode(), _PHONEME_EVENTS | _PHONEME_IPA)
        if self.rate <= 0:
            raise ModelError(f"espeak-ng {library}: cannot start with its data in {data}")
        self.library = library
        self._lib = lib
        self._callback = _Callback(self._collect)  # referenced here: espeak-ng calls it for as long as the process runs
        lib.espeak_SetSynthCallback(self._callback)
        self._voice = ""
        self._pcm: list[np.ndarray] = []
        self._marks: list[tuple[str, int]] = []  # (phoneme, the sample it starts at)

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], n: int, events: ctypes._Pointer[_Event]) -> int:
        if n:
            self._pcm.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_END:
            e = events[i]
            if e.type == _EVENT_PHONEME:  # a name of 8 bytes has no terminating NUL, and may end inside a letter
                self._marks.append((bytes(e.id.string).decode("utf-8", "ignore"), e.sample))
            i += 1
        return 0  # go on

    def synthesize(self, voice: str, words_per_minute: int, text: str) -> tuple[np.ndarray, list[tuple[str, int]]]:
        if voice != self._voice:  # setting a voice loads its dictionary (1.5 MB for cmn): only when it changes
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ModelError(f"espeak-ng {self.library}: no voice {voice!r} in {data_folder(self.library)}")
            self._voice = voice
        self._lib.espeak_SetParameter(_RATE, words_per_minute, 0)
        self._pcm, self._marks = [], []
        raw = text.encode()
        if self._lib.espeak_Synth(raw, len(raw) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None) != 0:
            raise ModelError(f"espeak-ng: could not synthesise a sentence of {len(text)} characters")  # no words: logs
        pcm = np.concatenate(self._pcm) if self._pcm else np.zeros(0, np.int16)
        return pcm, self._marks


_lock = threading.Lock()
_engine: _Engine | None = None


def _shared(library: Path) -> _Engine:
    global _engine
    if _engine is None:
        _engine = _Engine(library)
    elif _engine.library != library:
        raise ModelError(f"espeak-ng {library}: this process runs {_engine.library} already (one espeak-ng a process)")
    return _engine


class EspeakTts:
    def __init__(self, library: Path, voice: str, length_scale: float = 1.0) -> None:
        with _lock:
            self._engine = _shared(library)
        self.voice = voice
        self.rate: int = self._engine.rate
        self.words_per_minute = round(WORDS_PER_MINUTE / length_scale)
        # What decides the sound besides the library file (the disk speech cache's key).
        self.key = f"{voice}|{self.words_per_minute} wpm|peak {PEAK}"

    def synthesize(self, text: str) -> Speech:
        with _lock:
            pcm, marks = self._engine.synthesize(self.voice, self.words_per_minute, text)
        peak = int(np.abs(pcm.astype(np.int32)).max()) if len(pcm) else 0
        if peak:
            pcm = np.clip(np.round(pcm * (PEAK * 32767 / peak)), -32768, 32767).astype(np.int16)
        return Speech(pcm, self.rate, phonemes(marks, len(pcm), self.rate))


def phonemes(marks: list[tuple[str, int]], total: int, rate: int) -> list[tuple[str, int]]:
    """(phoneme, start sample) events -> (phoneme, samples) covering the clip, as models/visemes.py reads them.

    espeak-ng names a pause with no IPA at all: a long one becomes "_" (the mouth rests), a short one between
    words " " (it shapes the next word already). Its switch into English for Latin letters, "(en)", and back,
    "(cmn)", is said like the gap between words."""
    out: list[tuple[str, int]] = []
    starts = [min(max(s, 0), total) for _, s in marks]
    if starts and starts[0] > 0:
        out.append(("_", starts[0]))
    for i, (name, start) in enumerate(zip((m for m, _ in marks), starts, strict=True)):
        n = (starts[i + 1] if i + 1 < len(starts) else total) - start
        if n <= 0:
            continue
        if not name or name.startswith("("):
            name = "_" if n >= PAUSE_MS * rate // 1000 else " "
        out.append((name, n))
    if not out and total:
        out.append(("_", total))
    return out
