"""The face as the screen shows it: the portrait framed for the screen, the rig working at a size it can
afford (kiosk/upscale.py), and each frame's picture with the box of it that changed, for the screen to
send only that. A neural face driver's mouth (daemon/neural_mouth.py) is laid over the picture here."""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from kiosk.portrait import Portrait
from kiosk.renderer import Screen
from kiosk.rig import FaceRig, Pose
from kiosk.upscale import Upscaled, work_scale

Box = tuple[int, int, int, int]
CROP_MARGIN = 1.1  # the driver's crop: the face's landmarks' extent and this much more, brows to below the chin


class FaceView:
    def __init__(self, portrait: Portrait, screen: Screen) -> None:
        framed = portrait.framed(screen.size[0] / screen.size[1])
        self.rect = screen.portrait_rect((framed.rgb.shape[1], framed.rgb.shape[0]))
        k = work_scale(float(np.ptp(framed.landmarks[:, 1])) * self.rect.h / framed.rgb.shape[0])
        work = framed.scaled((round(self.rect.w * k), round(self.rect.h * k)))
        self.rig = FaceRig(work.rgb, work.landmarks)
        self._upscaled = Upscaled(work.rgb, self.rect.size) if k < 1.0 else None

    def mouth_box(self) -> Box:
        """Where the mouth is on the screen at its widest (tests and benchmarks look there)."""
        box = self.rig.mouth_box()
        x0, y0, x1, y1 = self._upscaled.box(box) if self._upscaled else box
        return x0 + self.rect.x, y0 + self.rect.y, x1 + self.rect.x, y1 + self.rect.y

    def render(self, pose: Pose) -> tuple[np.ndarray, Box]:
        """The face at the screen's size in this pose, and the box of it that can differ from the last."""
        face, changed = self.rig.render(pose), self.rig.roi
        if self._upscaled is not None:
            return self._upscaled.frame, self._upscaled.update(face, changed)
        return face, changed

    def face_box(self, pose: Pose) -> Box:
        """The square of the picture a face driver works on in this pose, the whole face (cut where it meets the
        picture's edge)."""
        (x0, y0), (x1, y1) = (pts := self.rig.moved_landmarks(pose)).min(axis=0), pts.max(axis=0)
        half = max(x1 - x0, y1 - y0) * CROP_MARGIN / 2
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        box = (int(cx - half), int(cy - half), int(cx + half) + 1, int(cy + half) + 1)
        x0, y0, x1, y1 = self._upscaled.box(box) if self._upscaled else box
        return max(x0, 0), max(y0, 0), min(x1, self.rect.w), min(y1, self.rect.h)


def lay_mouth(picture: np.ndarray, box: Box, drawn: np.ndarray) -> None:
    """Lay the lower half of a face driver's crop (`drawn`, of the `box` square) over the picture, faded
    in below the nose and towards the crop's sides and bottom, so no seam shows where the two meet."""
    x0, y0, x1, y1 = box
    region = picture[y0:y1, x0:x1]
    h, w = region.shape[:2]
    weight = _mouth_weight(h, w)
    scaled = cv2.resize(drawn, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    region[:] = np.rint(region + (scaled - region) * weight).astype(np.uint8)


@cache
def _mouth_weight(h: int, w: int) -> np.ndarray:
    """0 above the crop's middle, rising to 1 a tenth lower; falling to 0 over the outer eighth of its sides
    and bottom."""
    def ramp(n: int, rise: tuple[float, float], fall: tuple[float, float]) -> np.ndarray:
        x = (np.arange(n) + 0.5) / n
        return np.clip((x - rise[0]) / (rise[1] - rise[0]), 0, 1) * np.clip((fall[1] - x) / (fall[1] - fall[0]), 0, 1)

    rows = ramp(h, (0.5, 0.6), (0.875, 1.0))
    cols = ramp(w, (0.0, 0.125), (0.875, 1.0))
    return (rows[:, None] * cols[None, :])[:, :, None].astype(np.float32)
