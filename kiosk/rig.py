"""Avatar rig: a landmark-driven mesh warp of one portrait.

Each control (jaw opening, lip width, blink) moves a set of face-mesh landmarks; every other landmark and
the border of the face region stay put. A piecewise-affine interpolation over the Delaunay mesh of those
points turns the landmark displacements into a dense displacement field, computed once. A frame is then
one `cv2.remap` of the face region with a weighted sum of the fields. When the jaw opens, the opening
between the lips is composed rather than warped (a warp would stretch the teeth of a smiling photo): a
shaded interior with the tongue low in it, the photo's upper teeth riding with the upper lip and its
lower teeth with the jaw. Landmark indices follow MediaPipe's 468-point face mesh.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.interpolate import LinearNDInterpolator

# MediaPipe face-mesh contours.
LIPS_INNER_UPPER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
LIPS_INNER_LOWER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
LIPS_OUTER_LOWER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
MOUTH_CORNERS = (61, 291)
LIP_CORNER_RING = {61: -1.0, 291: 1.0, 78: -1.0, 308: 1.0, 146: -0.5, 375: 0.5, 185: -0.5, 409: 0.5,
                   95: -0.5, 324: 0.5, 191: -0.5, 415: 0.5}
EYES = [  # (upper lid, lower lid, crease above the lid), one tuple per eye
    ([246, 161, 160, 159, 158, 157, 173], [7, 163, 144, 145, 153, 154, 155], [247, 30, 29, 27, 28, 56, 190]),
    ([466, 388, 387, 386, 385, 384, 398], [249, 390, 373, 374, 380, 381, 382], [467, 260, 259, 257, 258, 286, 414]),
]
LIP_CENTRE_INNER = (13, 14)  # upper and lower inner lip on the centre line
TEETH_SPLIT = 0.65  # of the photo's lip gap, from the top: upper teeth above, lower teeth below
MOUTH_BACK_RGB = np.array([24, 7, 10], np.float32)[:, None, None]  # the shadow at the top of the opening
MOUTH_FLOOR_RGB = np.array([92, 32, 36], np.float32)[:, None, None]  # lower, where light reaches
TONGUE_RGB = np.array([170, 80, 84], np.float32)[:, None, None]  # (colour planes, see _paint_interior)
LOWER_TEETH_SHADE = 0.8  # inside the mouth, lower teeth catch less light than upper ones


@dataclass(frozen=True)
class Pose:
    """Rig controls: jaw 0 (closed) .. 1 (wide open); width -1 (rounded) .. 1 (spread); blink 0 .. 1."""

    jaw: float = 0.0
    width: float = 0.0
    blink: float = 0.0


class FaceRig:
    def __init__(self, image: np.ndarray, landmarks: np.ndarray) -> None:
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"portrait must be an RGB image, got shape {image.shape}")
        if landmarks.shape != (468, 2):
            raise ValueError(f"expected 468 face-mesh landmarks, got {landmarks.shape}")
        self.image = np.ascontiguousarray(image)
        self.landmarks = landmarks.astype(np.float32)
        h, w = image.shape[:2]
        lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
        pad = (hi - lo) * 0.15
        x0, y0 = np.maximum(lo - pad, 0).astype(int)
        x1, y1 = np.minimum(hi + pad, [w - 1, h - 1]).astype(int)
        self.roi = (int(x0), int(y0), int(x1) + 1, int(y1) + 1)
        self._patch = self.image[y0 : y1 + 1, x0 : x1 + 1].copy()
        self._origin = np.array([x0, y0], np.float32)
        ph, pw = self._patch.shape[:2]
        self._gx, self._gy = np.meshgrid(np.arange(pw, dtype=np.float32), np.arange(ph, dtype=np.float32))
        self._out = self.image.copy()
        self.mouth_width = float(np.linalg.norm(landmarks[MOUTH_CORNERS[0]] - landmarks[MOUTH_CORNERS[1]]))
        self._disp = {
            "jaw": self._jaw_displacement(),
            "width": self._width_displacement(),
            "blink": self._blink_displacement(),
        }
        self._fields = {name: self._dense(d) for name, d in self._disp.items()}

    # -- landmark displacements at full strength ------------------------------------------------
    def _jaw_displacement(self) -> np.ndarray:
        pts = self.landmarks
        left, right = pts[MOUTH_CORNERS[0]], pts[MOUTH_CORNERS[1]]
        centre_x = (left[0] + right[0]) / 2
        # Points below the line through the mouth corners drop with the jaw, most at the centre line.
        t = (pts[:, 0] - left[0]) / max(right[0] - left[0], 1.0)
        line_y = left[1] + t * (right[1] - left[1])
        below = pts[:, 1] > line_y + 0.02 * self.mouth_width
        face_half = (pts[:, 0].max() - pts[:, 0].min()) / 2
        weight = np.clip(1.0 - (np.abs(pts[:, 0] - centre_x) / face_half) ** 2, 0.0, 1.0) * below
        # The lower lip drops most at the centre and less towards the corners: a rounded opening, not a box.
        lower_lip = LIPS_INNER_LOWER[1:-1] + LIPS_OUTER_LOWER[1:-1]
        u = (pts[lower_lip, 0] - centre_x) / max((right[0] - left[0]) / 2, 1.0)
        weight[lower_lip] = 0.35 + 0.65 * np.clip(1.0 - u**2, 0.0, 1.0)
        weight[list(MOUTH_CORNERS)] = 0.25
        weight[[78, 308]] = 0.3
        d = np.zeros_like(pts)
        d[:, 1] = weight * 0.28 * self.mouth_width
        d[LIPS_INNER_UPPER[1:-1], 1] = -0.04 * self.mouth_width
        return d

    def _width_displacement(self) -> np.ndarray:
        d = np.zeros_like(self.landmarks)
        for idx, side in LIP_CORNER_RING.items():
            d[idx, 0] = side * 0.12 * self.mouth_width
        return d

    def _blink_displacement(self) -> np.ndarray:
        pts = self.landmarks
        d = np.zeros_like(pts)
        for upper, lower, crease in EYES:
            shift = pts[lower] - pts[upper]
            shift[:, 0] = 0.0
            d[upper] = 0.92 * shift
            d[crease] = 0.45 * shift
        return d

    def _dense(self, disp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Piecewise-affine field over the patch (patch coordinates), zero on the patch border."""
        ph, pw = self._patch.shape[:2]
        border = np.array(
            [(x, y) for x in np.linspace(0, pw - 1, 9) for y in (0, ph - 1)]
            + [(x, y) for y in np.linspace(0, ph - 1, 9) for x in (0, pw - 1)],
            np.float32,
        )
        pts = np.vstack([self.landmarks - self._origin, border])
        vals = np.vstack([disp, np.zeros_like(border)])
        interp = LinearNDInterpolator(pts, vals, fill_value=0.0)
        field = interp(self._gx, self._gy).astype(np.float32)
        return field[..., 0], field[..., 1]

    # -- rendering ----------------------------------------------------------------------------
    def moved_landmarks(self, pose: Pose) -> np.ndarray:
        d = pose.jaw * self._disp["jaw"] + pose.width * self._disp["width"] + pose.blink * self._disp["blink"]
        return self.landmarks + d

    def render(self, pose: Pose) -> np.ndarray:
        """The portrait in this pose (a buffer reused by the next call)."""
        fx = np.zeros_like(self._gx)
        fy = np.zeros_like(self._gy)
        for name, amount in (("jaw", pose.jaw), ("width", pose.width), ("blink", pose.blink)):
            if amount:
                fx += amount * self._fields[name][0]
                fy += amount * self._fields[name][1]
        # Backward mapping: each output pixel samples where the forward displacement came from.
        patch = cv2.remap(self._patch, self._gx - fx, self._gy - fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if pose.jaw > 0.04:
            self._paint_interior(patch, pose)
        x0, y0, x1, y1 = self.roi
        self._out[y0:y1, x0:x1] = patch
        return self._out

    def _paint_interior(self, patch: np.ndarray, pose: Pose) -> None:
        """Compose the open mouth between the moved inner lips: interior, then lower and upper teeth."""
        orig = self.landmarks - self._origin
        moved = self.moved_landmarks(pose) - self._origin
        upper, lower = moved[LIPS_INNER_UPPER], moved[LIPS_INNER_LOWER]
        opening = np.vstack([upper, lower[::-1]])
        ph, pw = patch.shape[:2]
        x0, y0 = np.clip(np.floor(opening.min(axis=0)).astype(int) - 2, 0, [pw, ph])
        x1, y1 = np.clip(np.ceil(opening.max(axis=0)).astype(int) + 3, 0, [pw, ph])
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        corner = np.array([x0, y0], np.float32)
        gx, gy = self._gx[y0:y1, x0:x1], self._gy[y0:y1, x0:x1]

        # Colour planes first, (3, h, w): numpy's loops then run along rows, not over 3 channels at a time
        # (that was much slower).
        def coverage(poly: np.ndarray) -> np.ndarray:
            m = np.zeros((y1 - y0, x1 - x0), np.uint8)
            cv2.fillPoly(m, [np.round((poly - corner) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
            return m.astype(np.float32) / 255

        def planes(rgb: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(rgb.transpose(2, 0, 1), np.float32)

        def shifted_photo(by: np.ndarray) -> np.ndarray:
            return planes(cv2.remap(self._patch, gx - by[0], gy - by[1], cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE))

        # Interior: dark at the top under the teeth, lighter towards the floor, the tongue low and centred.
        top, depth = opening[:, 1].min(), max(float(np.ptp(opening[:, 1])), 1.0)
        t = np.clip((gy - top) / depth, 0.0, 1.0)
        layer = MOUTH_BACK_RGB + (MOUTH_FLOOR_RGB - MOUTH_BACK_RGB) * (t * t)
        floor_x, floor_y = moved[LIP_CENTRE_INNER[1]]
        rx, ry = 0.32 * self.mouth_width, 0.22 * self.mouth_width
        tongue = np.clip((1.0 - ((gx - floor_x) / rx) ** 2 - ((gy - floor_y) / ry) ** 2) / 0.4, 0.0, 1.0)
        tongue *= tongue * (3 - 2 * tongue) * min(1.0, 1.5 * pose.jaw)  # soft-edged
        layer += (TONGUE_RGB * (0.55 + 0.45 * t) - layer) * tongue

        # Teeth: the photo's lip gap (nothing in a closed-lipped photo), split into an upper band that
        # rides with the upper lip and a lower band that drops with the jaw.
        gap = orig[LIPS_INNER_LOWER] - orig[LIPS_INNER_UPPER]
        lift, drop = moved[list(LIP_CENTRE_INNER)] - orig[list(LIP_CENTRE_INNER)]
        lower_band = np.vstack([lower - (1 - TEETH_SPLIT) * gap, lower[::-1]])
        layer += (LOWER_TEETH_SHADE * shifted_photo(drop) - layer) * coverage(lower_band)
        upper_band = np.vstack([upper, (upper + TEETH_SPLIT * gap)[::-1]])
        layer += (shifted_photo(lift) - layer) * coverage(upper_band)

        box = planes(patch[y0:y1, x0:x1])
        box += (layer - box) * coverage(opening)
        patch[y0:y1, x0:x1] = np.clip(box, 0, 255).astype(np.uint8).transpose(1, 2, 0)

    def mouth_box(self) -> tuple[int, int, int, int]:
        """Bounding box (x0, y0, x1, y1) of the mouth at its widest opening, in portrait pixels."""
        pts = np.vstack([self.landmarks[LIPS_INNER_UPPER + LIPS_INNER_LOWER],
                         self.moved_landmarks(Pose(jaw=1.0))[LIPS_INNER_LOWER]])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return int(lo[0]), int(lo[1]), int(hi[0]) + 1, int(hi[1]) + 1
