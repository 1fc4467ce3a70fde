"""Records exactly what the screen showed and the speaker played into an MP4 (H.264 + AAC, PyAV)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

AAC_PRIMING = 1024


class Recorder:
    def __init__(self, path: Path, size: tuple[int, int], fps: int, audio_rate: int, threads: int = 1,
                 fragmented: bool = True) -> None:
        """`threads`: the video encoder's; the live kiosk gives it one (the renderer shares two cores with four
        workers), an offline render, alone on the machine, more. `fragmented`: see below; an offline render,
        deleted unless complete, writes an ordinary MP4 with its index in front (plays and seeks anywhere)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Fragmented MP4 (a fragment per one-second keyframe interval): if the face is killed, the file
        # still plays up to its last second instead of losing its index with the process.
        movflags = "frag_keyframe+empty_moov+default_base_moof" if fragmented else "+faststart"
        self._out = av.open(str(path), "w", options={"movflags": movflags})
        self._video = self._out.add_stream("libx264", rate=fps)
        # H.264 with 4:2:0 chroma needs even dimensions; an odd native screen loses its last row/column.
        self._w, self._h = size[0] & ~1, size[1] & ~1
        self._video.width, self._video.height = self._w, self._h
        self._video.pix_fmt = "yuv420p"
        # The fastest preset: the renderer shares two cores with four workers.
        self._video.codec_context.options = {"preset": "ultrafast", "crf": "23", "g": str(fps)}
        self._video.codec_context.thread_count = threads
        self._audio = self._out.add_stream("aac", rate=audio_rate, layout="mono")
        self._audio_rate = audio_rate
        # FFmpeg's AAC encoder puts 1024 samples of priming in front of the audio. A fragmented MP4 has no
        # edit list to hide them, so players would hear everything 46 ms (at 22.05 kHz) late: drop as
        # many samples from our start instead (the first second of a session is always idle silence).
        # An ordinary MP4's edit list hides them.
        self._priming = AAC_PRIMING if fragmented else 0
        self._skip = self._priming
        self._frames = 0
        self._samples = 0
        self._last: av.VideoFrame | None = None
        self._closed = False

    def video(self, bgrx: np.ndarray, index: int) -> None:
        """The frame shown at frame `index` of the clock, (h, w, 4) B, G, R, unused as a screen holds it;
        frames skipped by a slow render repeat the last one."""
        # OpenCV's BT.601 conversion is several times faster than FFmpeg's swscale on a frame this size.
        yuv = cv2.cvtColor(np.ascontiguousarray(bgrx[: self._h, : self._w]), cv2.COLOR_BGRA2YUV_I420)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        while self._frames < index and self._last is not None:
            self._encode_video(self._last)
        if index >= self._frames:
            self._encode_video(frame)
        self._last = frame

    def _encode_video(self, frame: av.VideoFrame) -> None:
        frame.pts = self._frames
        frame.time_base = Fraction(1, int(self._video.average_rate))
        for packet in self._video.encode(frame):
            self._out.mux(packet)
        self._frames += 1

    def audio(self, pcm: np.ndarray) -> None:
        if self._skip:
            cut = min(self._skip, len(pcm))
            pcm, self._skip = pcm[cut:], self._skip - cut
        if len(pcm) == 0:
            return
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self._audio_rate
        frame.pts = self._samples
        frame.time_base = Fraction(1, self._audio_rate)
        self._samples += len(pcm)
        for packet in self._audio.encode(frame):
            self._out.mux(packet)

    def close(self) -> None:
        """Finish the file: pad the sound to the last frame and flush the encoders. Only once: a second call
        (after an interrupted close, or `abort`) does nothing, since a flushed encoder takes no more."""
        if self._closed:
            return
        self._closed = True
        # The sound so far ends where the last frame began: fill that frame's span with silence, so the
        # two tracks end together.
        heard = self._samples + self._priming - self._skip  # clock samples handed to `audio`
        missing = self._frames * self._audio_rate // int(self._video.average_rate) - heard
        if missing > 0:
            self.audio(np.zeros(missing, np.int16))
        for stream in (self._video, self._audio):
            for packet in stream.encode(None):
                self._out.mux(packet)
        self._out.close()

    def abort(self) -> None:
        """Close the file without flushing the encoders, for a recording about to be deleted."""
        self._closed = True
        self._out.close()
