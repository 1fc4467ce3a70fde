"""The iris as a separate layer: found once in the portrait's eye, lifted out, and drawn back wherever the
gaze puts it, clipped by the eyelids of the frame.

Warping the eye's pixels to move the iris squeezes it against the corners and drags the white of the eye
with it; a real iris slides as a rigid disc under fixed lids. So the photo's iris is cut out as a disc
(the parts its lids hide are filled from the visible parts), the white of the eye behind it is rebuilt
row by row from the white on either side, and each frame the disc is drawn at its new place inside the
eye opening of that frame (the lids may be closing in a blink or raised by the brows).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

IRIS_TO_EYE = (0.16, 0.27)  # iris radius / eye width (corner to corner): adults are near 0.21 (5.9 mm of 28)
RING_PX = 2  # the ring outside the iris its edge is judged against
IRIS_CONTRAST = 50.0  # grey levels between the iris and the white around it, at least, to move it (clear eyes: 70-90)
EDGE_PX = 1.2  # the disc's soft rim


@dataclass(frozen=True)
class Iris:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1: the part of the image the eye can draw into
    rgb: np.ndarray  # the disc over the box, lid-hidden parts filled
    alpha: np.ndarray  # (h, w) float32, the disc's coverage

    def draw(self, image: np.ndarray, opening: np.ndarray, shift: tuple[float, float]) -> None:
        """Draw the iris moved by `shift` pixels into `image`, inside the eye `opening` (polygon, image pixels)."""
        x0, y0, x1, y1 = self.box
        m = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
        size = (x1 - x0, y1 - y0)
        rgb = cv2.warpAffine(self.rgb, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.warpAffine(self.alpha, m, size, flags=cv2.INTER_LINEAR) * coverage(opening, self.box)
        region = image[y0:y1, x0:x1].astype(np.float32)
        region += (rgb - region) * alpha[..., None]
        image[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)


def lift(image: np.ndarray, opening: np.ndarray, eye_width: float, reach: float) -> tuple[Iris, np.ndarray] | None:
    """Find the iris inside `opening` (the eye's lid polygon, image pixels), and return it with the eye
    region's pixels without it (the white rebuilt behind it), to be written back into the image. `reach`:
    the farthest the iris will be moved, in pixels."""
    pad = int(np.ceil(IRIS_TO_EYE[1] * eye_width + RING_PX + reach + 2 * EDGE_PX)) + 1
    h, w = image.shape[:2]
    lo, hi = opening.min(axis=0), opening.max(axis=0)
    x0, y0 = np.maximum(np.floor(lo).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(hi).astype(int) + pad, [w, h])
    box = (int(x0), int(y0), int(x1), int(y1))
    region = image[y0:y1, x0:x1]
    inside = coverage(opening, box) > 0.5
    found = _find_disc(region, inside, eye_width)
    if found is None:
        return None
    cx, cy, radius = found
    radius -= 0.5  # the soft rim stays inside the limbus: no white of the eye rides along
    yy, xx = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float32)
    dist = np.hypot(xx - cx, yy - cy)
    alpha = np.clip((radius - dist) / EDGE_PX + 0.5, 0.0, 1.0).astype(np.float32)
    disc = dist <= radius + EDGE_PX
    # The lids hide part of the disc: fill it from the visible iris, so a moved iris is whole.
    hidden = (disc & ~inside).astype(np.uint8)
    rgb = cv2.inpaint(region, hidden, 3, cv2.INPAINT_TELEA).astype(np.float32)
    bare = _white_behind(region, inside & disc, inside)
    iris = Iris(box, rgb, alpha)
    return iris, bare


def _find_disc(region: np.ndarray, inside: np.ndarray, eye_width: float) -> tuple[float, float, float] | None:
    """The iris as (x, y, radius): of the discs whose centre lies in the eye opening, the one darkest inside
    against the ring just outside it (the limbus, where the iris meets the white, is the eye's strongest
    edge). Only pixels inside the opening count: the lids and lashes hide the top of most irises. None when
    no disc stands out by IRIS_CONTRAST (an eye with no white to see: a squint, tinted glasses)."""
    grey = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY).astype(np.float32)
    core = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    darkness = (255.0 - grey) * core
    best = (-np.inf, 0.0, 0.0, 0.0)
    for radius in np.arange(IRIS_TO_EYE[0] * eye_width, IRIS_TO_EYE[1] * eye_width + 0.5, 0.5):
        disc, ring = _disc(radius), _disc(radius + RING_PX) - _disc_padded(radius, RING_PX)
        dark_in, n_in = (cv2.filter2D(x, -1, disc, borderType=cv2.BORDER_CONSTANT) for x in (darkness, core))
        dark_out, n_out = (cv2.filter2D(x, -1, ring, borderType=cv2.BORDER_CONSTANT) for x in (darkness, core))
        ok = (core > 0) & (n_in > 0.35 * disc.sum()) & (n_out > 0.2 * ring.sum())
        score = np.where(ok, dark_in / np.maximum(n_in, 1) - dark_out / np.maximum(n_out, 1), -np.inf)
        y, x = np.unravel_index(int(np.argmax(score)), score.shape)
        if score[y, x] > best[0]:
            best = (float(score[y, x]), float(x), float(y), float(radius))
    if best[0] < IRIS_CONTRAST:
        return None
    return best[1], best[2], best[3]


def _disc(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (np.hypot(xx, yy) <= radius).astype(np.float32)


def _disc_padded(radius: float, pad: int) -> np.ndarray:
    """A disc of this radius on the grid of one `pad` pixels larger (to subtract from it)."""
    return np.pad(_disc(radius), int(np.ceil(radius + pad)) - int(np.ceil(radius)))


def _white_behind(region: np.ndarray, iris: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The eye without its iris: each row of the iris refilled by a straight blend between the white just
    left and just right of it (or the one side there is, by an eye's corner), then softened up and down so
    the rows do not show as stripes."""
    out = region.astype(np.float32)
    w = region.shape[1]
    for y in np.flatnonzero(iris.any(axis=1)):
        cols = np.flatnonzero(iris[y])
        a, b = cols[0] - 2, cols[-1] + 2
        left = out[y, max(a - 2, 0) : a + 1].mean(axis=0) if a >= 0 and inside[y, a] else None
        right = out[y, b : b + 3].mean(axis=0) if b < w and inside[y, b] else None
        if left is None and right is None:
            continue  # under a lid: the lid's own pixels stay
        left = right if left is None else left
        right = left if right is None else right
        t = np.linspace(0.0, 1.0, len(cols))[:, None]
        out[y, cols] = left * (1 - t) + right * t
    soft = cv2.GaussianBlur(out, (0, 0), sigmaX=0.8, sigmaY=1.5)
    out[iris] = soft[iris]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def coverage(polygon: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The polygon's anti-aliased coverage (0..1, float32) over the box."""
    x0, y0, x1, y1 = box
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(m, [np.round((polygon - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    return m.astype(np.float32) / 255
