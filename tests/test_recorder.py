"""What the screen shows is what the recording holds: colours and layout through the screen's pixel view,
the BT.601 conversion and H.264, read back with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pygame
import pytest

from kiosk.recorder import Recorder
from kiosk.renderer import Screen

COLOURS = [(220, 40, 40), (40, 200, 60), (50, 70, 230), (240, 240, 240)]


def test_recording_shows_what_was_drawn(screen: Screen, tmp_path: Path) -> None:
    w, h = screen.size
    quarter = w // 4
    for i, colour in enumerate(COLOURS):
        screen.surface.fill(colour, pygame.Rect(i * quarter, 0, quarter, h))
    view = screen.bgrx()
    assert view.shape == (h, w, 4)
    assert tuple(view[h // 2, quarter // 2, 2::-1]) == COLOURS[0]  # B, G, R in memory
    path = tmp_path / "colours.mp4"
    rec = Recorder(path, screen.size, 30, 22050)
    for k in range(5):
        rec.video(screen.bgrx(), k)
        rec.audio(np.zeros(735, np.int16))
    rec.close()
    with av.open(str(path)) as f:
        frames = [fr.to_ndarray(format="rgb24") for fr in f.decode(video=0)]
    assert len(frames) == 5
    last = frames[-1].astype(int)
    for i, colour in enumerate(COLOURS):
        # The middle of each band, away from chroma subsampling at the edges: H.264 at crf 23 is lossy.
        got = last[h // 2 - 10 : h // 2 + 10, i * quarter + 20 : (i + 1) * quarter - 20].reshape(-1, 3).mean(axis=0)
        assert np.abs(got - colour).max() < 12, (colour, got)


def test_a_recording_closed_twice_or_aborted_stays_as_it_was(tmp_path: Path) -> None:
    """A second close (after an interrupted one) or an abort does not encode into the flushed encoders."""
    def recorded(name: str) -> Recorder:
        rec = Recorder(tmp_path / name, (64, 48), 30, 22050)
        for k in range(5):
            rec.video(np.zeros((48, 64, 4), np.uint8), k)
            rec.audio(np.zeros(735, np.int16))
        return rec

    closed = recorded("closed.mp4")
    closed.close()
    closed.close()
    closed.abort()
    with av.open(str(tmp_path / "closed.mp4")) as f:
        assert len(list(f.decode(video=0))) == 5
    aborted = recorded("aborted.mp4")
    aborted.abort()
    aborted.close()


@pytest.mark.parametrize("fragmented", [True, False])
def test_sound_and_picture_stay_in_step(fragmented: bool, tmp_path: Path) -> None:
    """A click and a white frame given together come out together, and the two tracks end together: in a
    fragmented MP4 the encoder's priming is cut from the sound, in an ordinary one its edit list hides it."""
    fps, rate, flash = 30, 22050, 45
    per_frame = rate // fps
    path = tmp_path / "click.mp4"
    rec = Recorder(path, (64, 48), fps, rate, fragmented=fragmented)
    for k in range(90):
        rec.video(np.full((48, 64, 4), 255 if k == flash else 0, np.uint8), k)
        pcm = np.zeros(per_frame, np.int16)
        if k == flash:
            pcm[:200] = 20000 * np.sin(np.arange(200) * 0.5)
        rec.audio(pcm)
    rec.close()
    with av.open(str(path)) as c:
        sound = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    with av.open(str(path)) as c:
        brightness = [f.to_ndarray(format="gray").mean() for f in c.decode(video=0)]
    assert len(brightness) == 90 and int(np.argmax(brightness)) == flash
    click_s = int(np.argmax(np.abs(sound) > 0.1)) / rate  # AAC decodes to floats in [-1, 1]
    assert abs(click_s - flash / fps) < 0.005, click_s
    assert abs(len(sound) / rate - 90 / fps) <= 1024 / rate  # within the AAC's last frame
