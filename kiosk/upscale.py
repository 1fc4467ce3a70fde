"""The rig's frame at the screen's size. On a big screen (a portrait 1080x1920 lobby display puts an
800-pixel face on it) the rig works on a smaller copy of the portrait and only the part of the frame
that moves is scaled up each frame; the still rest is scaled once. Both scalings map pixels the same way,
so the moving part meets the still part without a seam.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

WORK_FACE_PX = 480  # the rig's face height at most: above it, pixels cost frame time and add little detail


def work_scale(face_height: float) -> float:
    """How much smaller than on screen the rig should work, for a face this tall on screen (pixels)."""
    return min(1.0, WORK_FACE_PX / max(face_height, 1.0))


class Upscaled:
    def __init__(self, still: np.ndarray, size: tuple[int, int]) -> None:
        """`still`: the rig's portrait (its rest frame); `size`: (width, height) on screen."""
        h, w = still.shape[:2]
        self.sx, self.sy = size[0] / w, size[1] / h
        self.size = size
        self.frame = cv2.resize(still, size, interpolation=cv2.INTER_LINEAR)

    def box(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """A box (x0, y0, x1, y1) of the rig's pixels as the screen pixels that cover it."""
        x0, y0, x1, y1 = box
        return (max(math.floor(x0 * self.sx), 0), max(math.floor(y0 * self.sy), 0),
                min(math.ceil(x1 * self.sx), self.size[0]), min(math.ceil(y1 * self.sy), self.size[1]))

    def update(self, image: np.ndarray, changed: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """Scale up the `changed` box of the rig's frame into `frame`; returns that box on screen."""
        x0, y0, x1, y1 = self.box(changed)
        # cv2.resize's own mapping: screen pixel X shows rig pixel (X + 0.5) / sx - 0.5.
        m = np.float32([[1 / self.sx, 0, (x0 + 0.5) / self.sx - 0.5], [0, 1 / self.sy, (y0 + 0.5) / self.sy - 0.5]])
        self.frame[y0:y1, x0:x1] = cv2.warpAffine(image, m, (x1 - x0, y1 - y0),
                                                  flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                                  borderMode=cv2.BORDER_REPLICATE)
        return x0, y0, x1, y1
