"""The face's share of the machine, without the rest of the kiosk: renders the embedded portrait offscreen
at the configured frame rate as the face worker does (head, eyes and brows from its behaviour, the
mouth moving, only the changed box drawn) and records it to an MP4. Benchmarks of one stage run
beside it to measure that stage under the load it meets.

    python -m bench.face_load --seconds 60 [--no-record]
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from daemon.config import load
    from kiosk.behaviour import Behaviour, FaceState
    from kiosk.face_view import FaceView
    from kiosk.portrait import load as load_portrait
    from kiosk.recorder import Recorder
    from kiosk.renderer import Screen

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--no-record", action="store_true")
    args = p.parse_args(argv)
    c = load().face
    screen = Screen("offscreen", c.size)
    view = FaceView(load_portrait(c.portrait), screen)
    behaviour = Behaviour(seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        recorder = None if args.no_record else Recorder(Path(tmp) / "load.mp4", screen.size, c.fps, 22050)
        frame_s, start = 1.0 / c.fps, time.monotonic()
        silence = np.zeros(22050 // c.fps, np.int16)
        k = 0
        stopped: list[int] = []
        # SIGTERM is how a benchmark stops this load; SDL's own handler would only queue a quit event.
        signal.signal(signal.SIGTERM, lambda signum, _frame: stopped.append(signum))
        while (now := time.monotonic()) - start < args.seconds and not stopped:
            behaviour.set_state(FaceState.THINKING, now)
            # The mouth keeps moving, as if speaking, so the load is the face's heaviest frame.
            face, changed = view.render(behaviour.at(now).pose(0.5 + 0.5 * math.sin(now * 9), 0.2))
            screen.draw(face, view.rect, "Thinking…", "", changed)
            screen.present()
            if recorder is not None:
                recorder.audio(silence)
                recorder.video(screen.bgrx(), k)
            k += 1
            time.sleep(max(0.0, start + k * frame_s - time.monotonic()))
        if recorder is not None:
            recorder.close()
    screen.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
