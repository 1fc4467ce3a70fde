"""Any portrait: a photo with several faces animates the largest and says how many it saw, a face too small
to animate is refused, `kioskctl validate` reports both against `face.portrait`, and a second, real
portrait animates."""

from __future__ import annotations

import re
import sys
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from daemon.cli_kioskctl import main as kioskctl
from kiosk.portrait import MAX_SIDE, MIN_FACE_PX, PortraitError
from kiosk.portrait import load as load_portrait
from kiosk.rig import FaceRig, Pose

PORTRAITS = Path(sys.prefix) / "share" / "kioskd" / "portraits"  # scripts/setup.sh puts matplotlib's wheel here
FACE = (slice(0, 256), slice(80, 336))  # the astronaut's head and shoulders in skimage's 512x512 photo


def write(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("photos")
    head = np.ascontiguousarray(data.astronaut()[FACE])
    pair = np.full((300, 560, 3), 200, np.uint8)
    pair[20:276, 10:266] = head  # the larger face on the left
    small = cv2.resize(head, (180, 180), interpolation=cv2.INTER_AREA)
    pair[60:240, 340:520] = small
    wheels = sorted(PORTRAITS.glob("matplotlib-*.whl"))
    assert wheels, f"no matplotlib wheel in {PORTRAITS}: scripts/setup.sh downloads it (Grace Hopper's portrait)"
    with zipfile.ZipFile(wheels[-1]) as z:
        (d / "grace_hopper.jpg").write_bytes(z.read("matplotlib/mpl-data/sample_data/grace_hopper.jpg"))
    return {
        "pair": write(d / "pair.png", pair),
        "tiny": write(d / "tiny.png", cv2.resize(data.astronaut(), (120, 120), interpolation=cv2.INTER_AREA)),
        "other": d / "grace_hopper.jpg",
    }


def test_a_photo_with_two_faces_animates_the_larger_and_says_so(photos: dict[str, Path]) -> None:
    portrait = load_portrait(str(photos["pair"]))
    assert portrait.notes == (f"portrait {photos['pair']}: 2 faces in the photo, animating the largest",)
    assert portrait.landmarks[:, 0].max() < 280  # on the left-hand face


def test_a_face_too_small_to_animate_is_refused(photos: dict[str, Path]) -> None:
    with pytest.raises(PortraitError, match=rf"tiny\.png: the face is \d+ pixels tall, too small .*{MIN_FACE_PX}"):
        load_portrait(str(photos["tiny"]))


@pytest.mark.parametrize(("size", "said"), [
    ((6000, 300), "6000x300 pixels is too large"),
    ((10000, 10000), "over 89,478,485 pixels is too large"),  # Pillow warns over its own limit...
    ((20000, 20000), "over 89,478,485 pixels is too large"),  # ... and over twice it refuses
])
def test_a_huge_portrait_is_refused_from_its_header(size: tuple[int, int], said: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """One bit a pixel, so the file is small; decoded as colour, 20000x20000 would take 1.2 GB."""
    path = tmp_path / "huge.png"
    Image.new("1", size).save(path)

    def decoded(*_: object) -> None:
        raise AssertionError("the portrait was decoded")

    monkeypatch.setattr(cv2, "imread", decoded)
    began = time.monotonic()
    with pytest.raises(PortraitError, match=re.escape(f"huge.png: {said} (at most {MAX_SIDE} pixels a side)")):
        load_portrait(str(path))
    assert time.monotonic() - began < 1.0


def test_kioskctl_validate_checks_the_portrait(photos: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(f"face:\n  portrait: {photos['tiny']}\n")
    assert kioskctl(["validate", str(site)]) == 1
    err = capsys.readouterr().err
    assert "face.portrait" in err and "too small to animate" in err
    site.write_text(f"face:\n  portrait: {tmp_path / 'nowhere.png'}\n")
    assert kioskctl(["validate", str(site)]) == 1
    assert "face.portrait" in (err := capsys.readouterr().err) and "no such file" in err
    site.write_text(f"face:\n  portrait: {photos['pair']}\n")
    assert kioskctl(["validate", str(site)]) == 0
    out = capsys.readouterr().out
    assert "warning: " in out and "2 faces in the photo" in out and "valid" in out


def test_a_second_portrait_animates(photos: dict[str, Path]) -> None:
    """Grace Hopper's portrait: another face, older, in glasses and a cap, lips closed. Each control moves
    its own part of her face; her dark, narrowed eyes show no white for an iris to slide over, so the gaze
    leaves them as they are (the lids still blink)."""
    portrait = load_portrait(str(photos["other"]))
    assert portrait.notes == ()
    rig = FaceRig(portrait.rgb, portrait.landmarks)
    rest = rig.render(Pose()).copy()
    lm = portrait.landmarks
    for pose, part in ((Pose(jaw=0.8), [2, 61, 291, 152, 172, 397]), (Pose(blink=1.0), [159, 145, 386, 374]),
                       (Pose(brow=1.0), [70, 107, 300, 336, 159, 386]), (Pose(smile=1.0), [61, 291, 50, 280, 145])):
        moved = np.abs(rig.render(pose).astype(int) - rest).sum(axis=2)
        lo, hi = lm[part].min(axis=0).astype(int) - 12, lm[part].max(axis=0).astype(int) + 12
        inside = moved[lo[1] : hi[1], lo[0] : hi[0]].sum()
        assert moved.sum() > 0 and inside > 0.7 * moved.sum(), pose  # the change is where that part of this face is
    assert np.array_equal(rig.render(Pose(gaze_x=1.0)), rest)
