"""Where the ear's audio comes from: a microphone (PyAudio), a file fed at real-time pace, or nothing.

Every source yields 16 kHz mono int16 chunks of CHUNK samples with the monotonic time (ns) at which the
chunk's last sample was captured.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import soxr

from models.vad_silero import CHUNK, SAMPLE_RATE

log = logging.getLogger("kioskd.ear")
CHUNK_NS = CHUNK * 1_000_000_000 // SAMPLE_RATE

Chunk = tuple[np.ndarray, int]


class AudioInputError(RuntimeError):
    """The configured audio input cannot be used; the message says which and why."""


class MicUnavailable(AudioInputError):
    """No usable microphone right now (unplugged, busy, no sound card): retry later."""


def decode_file(path: Path, rate: int = SAMPLE_RATE, max_s: float | None = None) -> np.ndarray:
    """Decode any audio file FFmpeg reads into mono int16 at `rate`; clear errors for missing or non-audio files.
    With `max_s`, decoding stops once the sound is longer than that (a stream may not say how long it is):
    what is returned is then the first part, over `max_s` long, for the caller to refuse."""
    if not path.exists():
        raise AudioInputError(f"audio input {path}: no such file")
    if path.is_dir():
        raise AudioInputError(f"audio input {path}: is a directory, not an audio file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioInputError(f"audio input {path}: has no audio stream")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            parts: list[np.ndarray] = []
            decoded, most = 0, math.inf if max_s is None else max_s * rate
            for frame in container.decode(audio=0):
                for r in resampler.resample(frame):
                    parts.append(r.to_ndarray().reshape(-1))
                    decoded += len(parts[-1])
                if decoded > most:
                    break
            else:
                parts.extend(r.to_ndarray().reshape(-1) for r in resampler.resample(None))
    except av.error.FFmpegError as exc:
        raise AudioInputError(f"audio input {path}: not a readable audio file ({exc.strerror or exc})") from None
    if not parts:
        raise AudioInputError(f"audio input {path}: contains no audio samples")
    return np.concatenate(parts).astype(np.int16)


class FileSource:
    """Feeds a decoded file at real-time pace, as if it were being spoken into a microphone now."""

    def __init__(self, path: Path) -> None:
        self.pcm = decode_file(path)
        self.path = path

    def chunks(self) -> Iterator[Chunk]:
        pcm = self.pcm
        pad = (-len(pcm)) % CHUNK
        pcm = np.concatenate([pcm, np.zeros(pad, np.int16)])
        t0 = time.monotonic_ns()
        for i in range(len(pcm) // CHUNK):
            due = t0 + (i + 1) * CHUNK_NS
            delay = (due - time.monotonic_ns()) / 1e9
            if delay > 0:
                time.sleep(delay)
            yield pcm[i * CHUNK : (i + 1) * CHUNK], due


_SILENCERS: list[object] = []


def _quiet_audio_libraries() -> None:
    """Route ALSA's and JACK's C-level error printing to nowhere: probing a machine without a sound card
    every few seconds would otherwise fill the journal with a dozen lines per attempt. Our status says it once."""
    if _SILENCERS:
        return
    _SILENCERS.append(None)
    hooks = (
        ("asound", "snd_lib_error_set_handler",
         ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)),
        ("jack", "jack_set_error_function", ctypes.CFUNCTYPE(None, ctypes.c_char_p)),
        ("jack", "jack_set_info_function", ctypes.CFUNCTYPE(None, ctypes.c_char_p)),
    )
    for lib_name, setter, proto in hooks:
        path = ctypes.util.find_library(lib_name)
        if path is None:
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        handler = proto(lambda *_: None)
        _SILENCERS.append(handler)  # kept referenced: the library calls it for the life of the process
        getattr(lib, setter)(handler)


class MicSource:
    """A PyAudio input stream at 16 kHz mono, or at the device's own rate resampled to 16 kHz."""

    def __init__(self, device: str | int | None) -> None:
        try:
            import pyaudio
        except ImportError as exc:
            raise MicUnavailable(f"PyAudio is not installed ({exc})") from None
        _quiet_audio_libraries()
        self._pa = pyaudio.PyAudio()
        try:
            index, rate = self._pick(device)
            self._rate = rate
            self._frames = CHUNK * rate // SAMPLE_RATE
            self._stream = self._pa.open(format=pyaudio.paInt16, channels=1, rate=rate, input=True,
                                         input_device_index=index, frames_per_buffer=self._frames)
        except MicUnavailable:
            self._pa.terminate()
            raise
        except (OSError, ValueError) as exc:
            self._pa.terminate()
            raise MicUnavailable(f"cannot open microphone: {exc}") from None

    def _pick(self, device: str | int | None) -> tuple[int, int]:
        inputs = [self._pa.get_device_info_by_index(i) for i in range(self._pa.get_device_count())]
        inputs = [d for d in inputs if d.get("maxInputChannels", 0) > 0]
        if not inputs:
            raise MicUnavailable("no audio input device found")
        if device is None:
            chosen = self._pa.get_default_input_device_info()
        elif isinstance(device, int):
            chosen = next((d for d in inputs if d["index"] == device), None)
        else:
            chosen = next((d for d in inputs if device.lower() in str(d["name"]).lower()), None)
        if chosen is None:
            names = ", ".join(f"{d['index']}: {d['name']}" for d in inputs)
            raise MicUnavailable(f"no input device matches {device!r} (have {names})")
        try:
            self._pa.is_format_supported(SAMPLE_RATE, input_device=chosen["index"], input_channels=1,
                                         input_format=8)  # paInt16
            return int(chosen["index"]), SAMPLE_RATE
        except ValueError:
            return int(chosen["index"]), int(chosen["defaultSampleRate"])

    def chunks(self) -> Iterator[Chunk]:
        # A streaming resampler carries its filter state across reads, so chunk edges do not click.
        resampler = soxr.ResampleStream(self._rate, SAMPLE_RATE, 1, dtype="int16") if self._rate != SAMPLE_RATE else None
        pending = np.zeros(0, np.int16)
        try:
            while True:
                data = self._stream.read(self._frames, exception_on_overflow=False)
                t_ns = time.monotonic_ns()
                pcm = np.frombuffer(data, np.int16)
                if resampler is None:
                    yield pcm, t_ns
                    continue
                pending = np.concatenate([pending, resampler.resample_chunk(pcm)])
                while len(pending) >= CHUNK:
                    yield pending[:CHUNK], t_ns
                    pending = pending[CHUNK:]
        except OSError as exc:
            raise MicUnavailable(f"microphone stopped: {exc}") from None
        finally:
            self._stream.close()
            self._pa.terminate()
