"""A neural face driver: a Wav2Lip-style model that draws the mouth the voice is making.

The contract is Wav2Lip's, so that an ONNX export of Wav2Lip (or a TensorRT engine built from one) plugs in:

- input `mel`, float32 [1, 1, 80, 16]: 16 steps (200 ms) of the voice's mel spectrogram from the moment
  drawn, computed as Wav2Lip's audio.py does (16 kHz, pre-emphasis 0.97, n_fft 800, hop 200 (80 steps a
  second), 80 mel bands 55–7600 Hz, dB with ref 20, scaled to [-4, 4]);
- input `face`, float32 [1, 6, 96, 96], BGR in 0..1 (Wav2Lip was trained on frames read by OpenCV): the
  face crop with its lower half blanked, then the same crop whole as the reference;
- output float32 [1, 3, 96, 96], BGR in 0..1: the crop with the mouth the audio asks for.

Inputs are told apart by their shapes, not their names (exports name them differently). No such weights
are installable here (no model hub): the path is exercised with a stand-in model the tests build.

The model runs on the backend accel/ chooses for `face_driver` (TensorRT, CUDA, CANN through onnxruntime, or
the CPU). A torch Wav2Lip on an Ascend NPU (torch_npu) would be another class with this one's call,
`(mel window, crop) -> crop`; `kioskctl doctor` says whether torch_npu sees an NPU, but only ONNX is loaded.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from accel.providers import session
from accel.selection import Choice
from models.registry import ModelError, resolve

SAMPLE_RATE = 16000
MEL_BANDS, MEL_STEPS, MEL_PER_S = 80, 16, 80
CROP = 96
_N_FFT, _HOP = 800, SAMPLE_RATE // MEL_PER_S
_MIN_DB, _REF_DB, _MAX_ABS = -100.0, 20.0, 4.0


@cache
def _mel_basis() -> np.ndarray:
    import librosa  # here: only a kiosk with a driver pays for importing it

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=_N_FFT, n_mels=MEL_BANDS, fmin=55, fmax=7600)


def mel_spectrogram(pcm: np.ndarray) -> np.ndarray:
    """[80, steps] of 16 kHz audio (int16 or float in -1..1), scaled as Wav2Lip was trained on."""
    import librosa
    from scipy.signal import lfilter

    audio = pcm.astype(np.float32) / 32768.0 if pcm.dtype == np.int16 else pcm.astype(np.float32)
    emphasised = lfilter([1, -0.97], [1], audio)
    spectrum = np.abs(librosa.stft(y=emphasised, n_fft=_N_FFT, hop_length=_HOP, win_length=_N_FFT))
    db = 20 * np.log10(np.maximum(1e-5, _mel_basis() @ spectrum)) - _REF_DB
    return np.clip(2 * _MAX_ABS * (db - _MIN_DB) / -_MIN_DB - _MAX_ABS, -_MAX_ABS, _MAX_ABS).astype(np.float32)


def mel_window(mel: np.ndarray, t_s: float) -> np.ndarray:
    """The 16 steps from `t_s` on (silence past either end), as the model's `mel` input wants them."""
    start = int(t_s * MEL_PER_S)
    out = np.full((MEL_BANDS, MEL_STEPS), -_MAX_ABS, np.float32)
    lo, hi = max(0, start), min(mel.shape[1], start + MEL_STEPS)
    if hi > lo:
        out[:, lo - start : hi - start] = mel[:, lo:hi]
    return out


def _dims(shape: list[object]) -> list[object]:
    """A shape with a symbolic or missing batch dimension read as 1."""
    return [1, *shape[1:]] if shape and not isinstance(shape[0], int) else list(shape)


class FaceDriver:
    def __init__(self, path: Path | str, threads: int = 1, choice: Choice | None = None) -> None:
        path = resolve(str(path), "face.driver")
        try:
            self._session = session(str(path), threads=threads, choice=choice)
        except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
            raise ModelError(f"face.driver: cannot load {path}: {exc}") from None
        floats = all(t.type == "tensor(float)" for t in [*self._session.get_inputs(), *self._session.get_outputs()])
        if not floats:
            raise ModelError(f"face.driver: {path} must take and give float32 tensors (a float16 export needs a "
                             "float32 wrapper)")
        inputs = {tuple(_dims(i.shape)): i.name for i in self._session.get_inputs()}
        outputs = [_dims(o.shape) for o in self._session.get_outputs()]
        mel, face = (1, 1, MEL_BANDS, MEL_STEPS), (1, 6, CROP, CROP)
        if set(inputs) != {mel, face} or len(outputs) != 1 or outputs[0] != [1, 3, CROP, CROP]:
            raise ModelError(
                f"face.driver: {path} is not a Wav2Lip-style model: it takes "
                f"{[list(s) for s in inputs]} and gives {outputs}; expected inputs [1, 1, 80, 16] (mel) and "
                f"[1, 6, 96, 96] (face) and one output [1, 3, 96, 96]")
        self._mel, self._face = inputs[mel], inputs[face]

    @property
    def provider(self) -> str:
        """The execution provider onnxruntime runs it on (what was asked for, unless that failed to load)."""
        return self._session.get_providers()[0]

    def __call__(self, window: np.ndarray, crop: np.ndarray) -> np.ndarray:
        """The 96×96 RGB crop (uint8) with the mouth `window` (80×16 mel steps) asks for."""
        ref = crop[:, :, ::-1].astype(np.float32).transpose(2, 0, 1) / 255.0  # the model's BGR
        masked = ref.copy()
        masked[:, CROP // 2 :] = 0.0
        face = np.concatenate([masked, ref])[None]
        out = self._session.run(None, {self._mel: window[None, None].astype(np.float32), self._face: face})[0]
        return (np.clip(out[0], 0.0, 1.0).transpose(1, 2, 0)[:, :, ::-1] * 255.0 + 0.5).astype(np.uint8)
