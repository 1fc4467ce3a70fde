"""Avatar rig: a landmark-driven mesh warp of one portrait.

Each local control (jaw opening, lip width, blink, lids following the gaze, brows, smile, concern) moves
a set of face-mesh landmarks; every other landmark and a ring around the face stay put. A
piecewise-affine interpolation over the Delaunay mesh of those points turns the landmark displacements
into a dense displacement field, computed once. The irises are a layer of their own (kiosk/iris.py),
drawn inside each frame's eye openings where the gaze puts them. The head as a whole (sway, tilt, nod)
is a small affine motion about the neck, applied through a soft mask around the head and hair that
falls to zero before the shoulders and the image border: the neck and the nearby background stretch a
little instead of tearing. A frame is one `cv2.remap` of the face with a weighted sum of the fields,
the irises drawn in, and one more `cv2.remap` of the head region for the head's motion. When the jaw
opens, the opening between the lips is composed rather than warped (a warp would stretch the teeth of a
smiling photo): a shaded interior with the tongue low in it, the photo's upper teeth riding with the
upper lip and its lower teeth with the jaw. Landmark indices follow MediaPipe's 468-point face mesh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.interpolate import LinearNDInterpolator

from kiosk.head_motion import Head
from kiosk.iris import Iris, coverage, lift

# MediaPipe face-mesh contours.
LIPS_INNER_UPPER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
LIPS_INNER_LOWER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
LIPS_OUTER_LOWER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
MOUTH_CORNERS = (61, 291)
EYES = [  # (upper lid, lower lid, crease above the lid), one tuple per eye
    ([246, 161, 160, 159, 158, 157, 173], [7, 163, 144, 145, 153, 154, 155], [247, 30, 29, 27, 28, 56, 190]),
    ([466, 388, 387, 386, 385, 384, 398], [249, 390, 373, 374, 380, 381, 382], [467, 260, 259, 257, 258, 286, 414]),
]
EYE_CORNERS = ((33, 133), (263, 362))  # outer, inner
BROWS = (  # (outer .. inner on the upper edge, outer .. inner on the lower edge), one per brow
    ([70, 63, 105, 66, 107], [46, 53, 52, 65, 55]),
    ([300, 293, 334, 296, 336], [276, 283, 282, 295, 285]),
)
ABOVE_BROWS = [71, 68, 104, 69, 108, 301, 298, 333, 299, 337, 151]
CHEEKS = [50, 280, 205, 425, 187, 411, 123, 352, 117, 346, 118, 347]
OUTER_CORNER_RING = {61: -1.0, 291: 1.0, 146: -0.5, 375: 0.5, 185: -0.5, 409: 0.5}
INNER_CORNER_RING = {78: -1.0, 308: 1.0, 95: -0.5, 324: 0.5, 191: -0.5, 415: 0.5}
CHIN = 152
LIP_CENTRE_INNER = (13, 14)  # upper and lower inner lip on the centre line
TEETH_SPLIT = 0.65  # of the photo's lip gap, from the top: upper teeth above, lower teeth below
MOUTH_BACK_RGB = np.array([24, 7, 10], np.float32)[:, None, None]  # the shadow at the top of the opening
MOUTH_FLOOR_RGB = np.array([92, 32, 36], np.float32)[:, None, None]  # lower, where light reaches
TONGUE_RGB = np.array([170, 80, 84], np.float32)[:, None, None]  # (colour planes, see _paint_interior)
LOWER_TEETH_SHADE = 0.8  # inside the mouth, lower teeth catch less light than upper ones


@dataclass(frozen=True)
class Pose:
    """Rig controls: jaw 0 (closed) .. 1 (wide open); width -1 (rounded) .. 1 (spread); blink 0 .. 1;
    gaze in eye travel, x -1 (portrait's left) .. 1, y -1 (up) .. 1 (down); brow, smile and concern 0 .. 1;
    the head's pose (kiosk/head_motion.py)."""

    jaw: float = 0.0
    width: float = 0.0
    blink: float = 0.0
    gaze_x: float = 0.0
    gaze_y: float = 0.0
    brow: float = 0.0
    smile: float = 0.0
    concern: float = 0.0
    head: Head = field(default_factory=Head)


LOCAL = ("jaw", "width", "blink", "gaze_y", "brow", "smile", "concern")  # warped; gaze_x only moves the irises
HEAD_MASK_IN, HEAD_MASK_OUT = 1.0, 1.55  # the head moves whole inside this ellipse radius, nothing outside the next
NOD_DROP, NOD_FORESHORTEN = 0.025, 0.06  # a full nod: the face drops this much of its height and shortens by this
IRIS_TRAVEL = (0.15, 0.08)  # of the eye's width, at gaze 1: sideways, then up or down


class FaceRig:
    def __init__(self, image: np.ndarray, landmarks: np.ndarray) -> None:
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"portrait must be an RGB image, got shape {image.shape}")
        if landmarks.shape != (468, 2):
            raise ValueError(f"expected 468 face-mesh landmarks, got {landmarks.shape}")
        self.image = np.ascontiguousarray(image)
        self.landmarks = landmarks.astype(np.float32)
        h, w = image.shape[:2]
        lo, hi = self.landmarks.min(axis=0), self.landmarks.max(axis=0)
        self.face_height = float(hi[1] - lo[1])
        self.mouth_width = float(np.linalg.norm(landmarks[MOUTH_CORNERS[0]] - landmarks[MOUTH_CORNERS[1]]))
        # The head's ellipse: the face mesh widened for the hair and raised for the crown.
        self._centre = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2 - 0.12 * self.face_height], np.float32)
        self._axes = np.array([0.72 * (hi[0] - lo[0]), 0.78 * self.face_height], np.float32)
        self._pivot = self.landmarks[CHIN] + np.array([0.0, 0.2 * self.face_height], np.float32)
        reach = self._axes * HEAD_MASK_OUT
        x0, y0 = np.maximum(np.minimum(self._centre - reach, lo - (hi - lo) * 0.15), 0).astype(int)
        x1, y1 = np.minimum(np.maximum(self._centre + reach, hi + (hi - lo) * 0.15), [w - 1, h - 1]).astype(int)
        self.roi = (int(x0), int(y0), int(x1) + 1, int(y1) + 1)
        self._patch = self.image[y0 : y1 + 1, x0 : x1 + 1].copy()
        self._origin = np.array([x0, y0], np.float32)
        ph, pw = self._patch.shape[:2]
        self._gx, self._gy = np.meshgrid(np.arange(pw, dtype=np.float32), np.arange(ph, dtype=np.float32))
        self._out = self.image.copy()
        self._eye_rings = [[outer, *upper, inner, *lower[::-1]]
                           for (upper, lower, _), (outer, inner) in zip(EYES, EYE_CORNERS, strict=True)]
        self._irises, self._bare = self._lift_irises()
        self._face = self._patch.copy()  # the patch after the face's own controls, before the head moves it
        self._disp = {
            "jaw": self._jaw_displacement(),
            "width": self._width_displacement(),
            "blink": self._blink_displacement(),
            "gaze_y": self._lids_follow_gaze(),
            "brow": self._brow_displacement(),
            "smile": self._smile_displacement(),
            "concern": self._concern_displacement(),
        }
        self._box, self._fields = self._dense(self._disp)
        self._head_planes = self._head_mask_planes()
        self._hx = np.zeros_like(self._gx)
        self._hy = np.zeros_like(self._gy)

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
        for idx, side in (OUTER_CORNER_RING | INNER_CORNER_RING).items():
            d[idx, 0] = side * 0.12 * self.mouth_width
        return d

    def _lid_gap(self, upper: list[int], lower: list[int]) -> float:
        return float((self.landmarks[lower, 1] - self.landmarks[upper, 1]).mean())

    def _blink_displacement(self) -> np.ndarray:
        pts = self.landmarks
        d = np.zeros_like(pts)
        for upper, lower, crease in EYES:
            shift = pts[lower] - pts[upper]
            shift[:, 0] = 0.0
            d[upper] = 0.92 * shift
            d[crease] = 0.45 * shift
        return d

    def _lids_follow_gaze(self) -> np.ndarray:
        """Looking down lowers the upper lid a little and looking up raises it, as real lids follow the eye
        (the iris itself is drawn where the gaze puts it: kiosk/iris.py)."""
        d = np.zeros_like(self.landmarks)
        for upper, lower, _ in EYES:
            d[upper, 1] = 0.2 * self._lid_gap(upper, lower)
        return d

    def _brow_displacement(self) -> np.ndarray:
        """Brows up, the lid creases and the forehead just above the brows with them (less), so the skin
        between stretches and folds gently instead of smearing."""
        d = np.zeros_like(self.landmarks)
        lift = 0.028 * self.face_height
        for top, bottom in BROWS:
            d[top + bottom, 1] = -lift
        d[ABOVE_BROWS, 1] = -0.45 * lift
        for upper, _, crease in EYES:
            d[crease, 1] = -0.4 * lift
            d[upper, 1] = -0.08 * lift
        return d

    def _smile_displacement(self) -> np.ndarray:
        """Corners up and out, the cheeks raised, the lower lids pushed up: the eyes smile too."""
        d = np.zeros_like(self.landmarks)
        up, out = 0.022 * self.face_height, 0.04 * self.mouth_width
        for idx, side in OUTER_CORNER_RING.items():
            d[idx] = (side * out, -up * abs(side))
        for idx, side in INNER_CORNER_RING.items():
            d[idx] = (0.5 * side * out, -0.5 * up * abs(side))
        d[CHEEKS, 1] = -0.015 * self.face_height
        for upper, lower, _ in EYES:
            d[lower, 1] = -0.2 * self._lid_gap(upper, lower)
        return d

    def _concern_displacement(self) -> np.ndarray:
        """Inner brows up and together, outer brows a little down, mouth corners down."""
        pts = self.landmarks
        d = np.zeros_like(pts)
        mid_x = float(pts[:, 0].mean())
        for top, bottom in BROWS:
            for k, (a, b) in enumerate(zip(top, bottom, strict=True)):
                inner = k / (len(top) - 1)  # 0 outer .. 1 inner
                for i in (a, b):
                    d[i, 1] = (-0.035 * inner + 0.006 * (1 - inner)) * self.face_height
                    d[i, 0] = inner * 0.01 * self.face_height * np.sign(mid_x - pts[i, 0])
        for idx, side in OUTER_CORNER_RING.items():
            d[idx, 1] = 0.012 * self.face_height * abs(side)
        for idx, side in INNER_CORNER_RING.items():
            d[idx, 1] = 0.006 * self.face_height * abs(side)
        return d

    # -- dense fields ---------------------------------------------------------------------------
    def _dense(self, disps: dict[str, np.ndarray]) -> tuple[tuple[slice, slice], dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Piecewise-affine fields (patch coordinates) over the face's own box, zero on its border: one
        Delaunay mesh for all the controls."""
        ph, pw = self._patch.shape[:2]
        pts = self.landmarks - self._origin
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        x0, y0 = np.maximum(lo - (hi - lo) * 0.15, 0).astype(int)
        x1, y1 = np.minimum(hi + (hi - lo) * 0.15, [pw - 1, ph - 1]).astype(int)
        box = (slice(int(y0), int(y1) + 1), slice(int(x0), int(x1) + 1))
        border = np.array(
            [(x, y) for x in np.linspace(x0, x1, 9) for y in (y0, y1)]
            + [(x, y) for y in np.linspace(y0, y1, 9) for x in (x0, x1)],
            np.float32,
        )
        vals = np.hstack([disps[name] for name in LOCAL])
        interp = LinearNDInterpolator(np.vstack([pts, border]), np.vstack([vals, np.zeros((len(border), vals.shape[1]))]),
                                      fill_value=0.0)
        field = interp(self._gx[box], self._gy[box]).astype(np.float32)
        return box, {name: (np.ascontiguousarray(field[..., 2 * i]), np.ascontiguousarray(field[..., 2 * i + 1]))
                     for i, name in enumerate(LOCAL)}

    def _lift_irises(self) -> tuple[list[tuple[Iris, tuple[float, float]] | None], np.ndarray]:
        """Each eye's iris with its travel at gaze 1 (pixels, sideways and up or down), and the patch with
        the irises lifted out: the warp works on the bare eyes, and each frame draws the irises back where
        the gaze puts them. An eye with no white to see (a squint, tinted glasses) is left as it is."""
        bare = self._patch.copy()
        irises = []
        for ring in self._eye_rings:
            width = float(np.linalg.norm(self.landmarks[ring[0]] - self.landmarks[ring[len(ring) // 2]]))
            lifted = lift(self._patch, self.landmarks[ring] - self._origin, width, IRIS_TRAVEL[0] * width)
            if lifted is None:
                irises.append(None)  # no white to move it over: the eye keeps its gaze, the lids still move
                continue
            iris, eye = lifted
            x0, y0, x1, y1 = iris.box
            bare[y0:y1, x0:x1] = eye
            irises.append((iris, (IRIS_TRAVEL[0] * width, IRIS_TRAVEL[1] * width)))
        return irises, bare

    def _head_weight(self, xy: np.ndarray) -> np.ndarray:
        """How much of the head's motion a point (image coordinates) follows: 1 inside the head's ellipse,
        easing to 0 at HEAD_MASK_OUT of it, and to 0 towards the image's edges (nothing tears there)."""
        r = np.hypot(*((xy - self._centre) / self._axes).T)
        u = np.clip((HEAD_MASK_OUT - r) / (HEAD_MASK_OUT - HEAD_MASK_IN), 0.0, 1.0)
        h, w = self.image.shape[:2]
        edge = np.minimum.reduce([xy[:, 0], xy[:, 1], w - 1 - xy[:, 0], h - 1 - xy[:, 1]])
        return (u * u * (3 - 2 * u) * np.clip(edge / (0.08 * self.face_height), 0.0, 1.0)).astype(np.float32)

    def _head_mask_planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The mask m and m·(x - pivot), m·(y - pivot) over the patch: the head's affine field is a weighted sum
        of these three planes."""
        ph, pw = self._patch.shape[:2]
        xy = np.stack([self._gx.ravel(), self._gy.ravel()], axis=1) + self._origin
        m = self._head_weight(xy).reshape(ph, pw)
        px, py = self._pivot - self._origin
        return m, m * (self._gx - px), m * (self._gy - py)

    def _head_affine(self, head: Head) -> np.ndarray:
        """The head's motion as (A - I | t) about the pivot, 2x3: a point r from the pivot moves by A·r - r + t."""
        th = math.radians(head.roll)
        c, s = math.cos(th), math.sin(th)
        sy = 1.0 - NOD_FORESHORTEN * head.nod
        a = np.array([[c, -s * sy], [s, c * sy]])
        t = np.array([head.x, head.y + NOD_DROP * head.nod]) * self.face_height
        return np.hstack([a - np.eye(2), t[:, None]])

    # -- rendering ----------------------------------------------------------------------------
    def _face_landmarks(self, pose: Pose) -> np.ndarray:
        """Landmarks moved by the face's own controls, before the head moves them."""
        return self.landmarks + sum((getattr(pose, name) * self._disp[name] for name in LOCAL),
                                    np.zeros_like(self.landmarks))

    def moved_landmarks(self, pose: Pose) -> np.ndarray:
        face = self._face_landmarks(pose)
        affine = self._head_affine(pose.head)
        head = (face - self._pivot) @ affine[:, :2].T + affine[:, 2]
        return (face + self._head_weight(face)[:, None] * head).astype(np.float32)

    def render(self, pose: Pose) -> np.ndarray:
        """The portrait in this pose (a buffer reused by the next call)."""
        # The face's own controls over its box, then the whole head moved in one more warp: a control's
        # field stays where its landmarks are, wherever the head goes.
        box = self._box
        fx, fy = np.zeros_like(self._gx[box]), np.zeros_like(self._gy[box])
        for name in LOCAL:
            amount = getattr(pose, name)
            if amount:
                field_x, field_y = self._fields[name]
                fx += amount * field_x
                fy += amount * field_y
        # Backward mapping: each output pixel samples where the forward displacement came from.
        self._face[box] = cv2.remap(self._bare, self._gx[box] - fx, self._gy[box] - fy, cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
        moved = self._face_landmarks(pose) - self._origin
        for ring, lifted in zip(self._eye_rings, self._irises, strict=True):
            if lifted is not None:
                iris, (tx, ty) = lifted
                iris.draw(self._face, moved[ring], (pose.gaze_x * tx, pose.gaze_y * ty))
        if pose.jaw > 0.04:
            self._paint_interior(self._face, pose, moved)
        m, mx, my = self._head_planes
        (axx, axy, tx), (ayx, ayy, ty) = self._head_affine(pose.head)
        # hx = axx·m(x-px) + axy·m(y-py) + tx·m: whole-patch multiply-adds in OpenCV.
        cv2.scaleAdd(mx, axx, cv2.scaleAdd(my, axy, m * np.float32(tx)), dst=self._hx)
        cv2.scaleAdd(mx, ayx, cv2.scaleAdd(my, ayy, m * np.float32(ty)), dst=self._hy)
        x0, y0, x1, y1 = self.roi
        self._out[y0:y1, x0:x1] = cv2.remap(self._face, self._gx - self._hx, self._gy - self._hy, cv2.INTER_LINEAR,
                                            borderMode=cv2.BORDER_REPLICATE)
        return self._out

    def _paint_interior(self, patch: np.ndarray, pose: Pose, moved: np.ndarray) -> None:
        """Compose the open mouth between the inner lips `moved` by the pose (patch coordinates): interior,
        then lower and upper teeth."""
        orig = self.landmarks - self._origin
        upper, lower = moved[LIPS_INNER_UPPER], moved[LIPS_INNER_LOWER]
        opening = np.vstack([upper, lower[::-1]])
        ph, pw = patch.shape[:2]
        x0, y0 = np.clip(np.floor(opening.min(axis=0)).astype(int) - 2, 0, [pw, ph])
        x1, y1 = np.clip(np.ceil(opening.max(axis=0)).astype(int) + 3, 0, [pw, ph])
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        mouth = (int(x0), int(y0), int(x1), int(y1))
        gx, gy = self._gx[y0:y1, x0:x1], self._gy[y0:y1, x0:x1]

        # Colour planes first, (3, h, w): numpy's loops then run along rows, not over 3 channels at a time
        # (that was much slower).
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
        rise, drop = moved[list(LIP_CENTRE_INNER)] - orig[list(LIP_CENTRE_INNER)]
        lower_band = np.vstack([lower - (1 - TEETH_SPLIT) * gap, lower[::-1]])
        layer += (LOWER_TEETH_SHADE * shifted_photo(drop) - layer) * coverage(lower_band, mouth)
        upper_band = np.vstack([upper, (upper + TEETH_SPLIT * gap)[::-1]])
        layer += (shifted_photo(rise) - layer) * coverage(upper_band, mouth)

        box = planes(patch[y0:y1, x0:x1])
        box += (layer - box) * coverage(opening, mouth)
        patch[y0:y1, x0:x1] = np.clip(box, 0, 255).astype(np.uint8).transpose(1, 2, 0)

    def mouth_box(self) -> tuple[int, int, int, int]:
        """Bounding box (x0, y0, x1, y1) of the mouth at its widest opening, in portrait pixels."""
        pts = np.vstack([self.landmarks[LIPS_INNER_UPPER + LIPS_INNER_LOWER],
                         self.moved_landmarks(Pose(jaw=1.0))[LIPS_INNER_LOWER]])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return int(lo[0]), int(lo[1]), int(hi[0]) + 1, int(hi[1]) + 1
