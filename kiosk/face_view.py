"""The face as the screen shows it: the portrait framed for the screen, the rig working at a size it can
afford (kiosk/upscale.py), and each frame's picture with the box of it that changed, for the screen to
send only that."""

from __future__ import annotations

import numpy as np

from kiosk.portrait import Portrait
from kiosk.renderer import Screen
from kiosk.rig import FaceRig, Pose
from kiosk.upscale import Upscaled, work_scale

Box = tuple[int, int, int, int]


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
