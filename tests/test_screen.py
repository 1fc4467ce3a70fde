"""Drawing only what changed shows the same picture as drawing everything, and a face scaled up for a big
screen part by part matches the face scaled up whole; a screenshot is the frame shown when it was asked."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.renderer import Screen
from kiosk.upscale import Upscaled, work_scale


def test_drawing_only_the_changed_box_shows_the_whole_frame(screen: Screen) -> None:
    rng = np.random.default_rng(1)
    at = screen.portrait_rect((300, 200))
    first = rng.integers(0, 255, (at.h, at.w, 3), np.uint8)
    second = first.copy()
    box = (60, 40, 180, 150)
    second[box[1] : box[3], box[0] : box[2]] = rng.integers(0, 255, (box[3] - box[1], box[2] - box[0], 3), np.uint8)
    screen.draw(first, at, "Hello there", "")
    screen.draw(second, at, "Hello there", "", changed=box)
    partial = screen.bgrx()
    screen.draw(second, at, "Hello there", "")
    assert np.array_equal(partial, screen.bgrx())
    # Texts that change redraw everything: the old caption's band does not linger.
    screen.draw(first, at, "", "")
    clean = screen.bgrx()
    screen.draw(first, at, "Hello there", "")
    screen.draw(first, at, "", "", changed=box)
    assert np.array_equal(screen.bgrx(), clean)


def test_a_screenshot_is_the_screen_as_it_was_when_asked(screen: Screen, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    at = screen.portrait_rect((300, 200))
    screen.draw(rng.integers(0, 255, (at.h, at.w, 3), np.uint8), at, "Hello there", "")
    shown = screen.bgrx()[:, :, :3].copy()
    writer = screen.save_png(tmp_path / "now.png")
    screen.draw(np.zeros((at.h, at.w, 3), np.uint8), at, "", "")  # the next frame, drawn while it is written
    writer.join(timeout=10)
    assert np.array_equal(cv2.imread(str(tmp_path / "now.png")), shown)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["now.png"]  # no half-written file left beside it
    screen.save_png(tmp_path / "missing-folder" / "x.png").join(timeout=10)  # logged, never raised


def test_a_face_scaled_up_part_by_part_has_no_seam() -> None:
    assert work_scale(400) == 1.0 and work_scale(960) == pytest.approx(0.5)
    rng = np.random.default_rng(2)
    still = cv2.GaussianBlur(rng.integers(0, 255, (150, 90, 3), np.uint8), (5, 5), 0)
    up = Upscaled(still, (180, 300))
    whole = up.frame.copy()
    assert up.update(still, (20, 30, 70, 120)) == (40, 60, 140, 240)
    # The part scaled each frame meets the part scaled once: at most a level or two of rounding apart.
    assert np.abs(up.frame.astype(int) - whole).max() <= 2
    moved = still.copy()
    moved[30:120, 20:70] = 255 - moved[30:120, 20:70]
    up.update(moved, (20, 30, 70, 120))
    # Inside the box the frame is the moved face scaled up whole; outside it, the still one.
    expected = cv2.resize(moved, (180, 300), interpolation=cv2.INTER_LINEAR)
    assert np.abs(up.frame[60:240, 40:140].astype(int) - expected[60:240, 40:140]).max() <= 2
    outside = np.ones(whole.shape[:2], bool)
    outside[60:240, 40:140] = False
    assert np.abs(up.frame.astype(int) - whole).max(axis=2)[outside].max() <= 2
