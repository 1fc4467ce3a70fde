"""Screenshots of the face in each state, as the kiosk shows them: the face stage on this machine's display
(fullscreen at its own resolution; run under Xvfb on a headless machine) or offscreen at a given size,
walked through a turn on a clock that jumps from frame to frame, and the screen saved at chosen moments.
It also prints the frame times it saw (draw and present, no recording).

    xvfb-run -s "-screen 0 1920x1080x24" python -m bench.face_states --out shots/
    xvfb-run -s "-screen 0 1080x1920x24" python -m bench.face_states --grab "import -window root {path}" --out shots/
    python -m bench.face_states --display offscreen --size 1080x1920 --out shots/
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

FPS = 30
# (frame, what happens before it): a turn told in frames, and the frames to save.
SCRIPT = {60: "listening", 180: "thinking", 225: "reply", 900: "degraded"}
SHOTS = {"idle": 50, "listening": 150, "thinking": 222, "speaking": 262, "speaking-concern": 0, "degraded": 960}
SENTENCES = [("Hello, and welcome to Example Bank.", "smile"),
             ("I'm sorry, the branch is closed on public holidays.", "concern")]


def main(argv: list[str] | None = None) -> int:
    import numpy as np
    import pygame

    from daemon.commands import Status, Visitor
    from daemon.config import load
    from daemon.messages import Message, ReplyEnd, Sentence, Speech
    from daemon.stage import LocalPort, ManualClock
    from daemon.workers.face import Face
    from daemon.workers.voice import Voice

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="folder for the PNGs")
    p.add_argument("--display", choices=("fullscreen", "window", "offscreen"), default="fullscreen")
    p.add_argument("--size", default="1920x1080", help="window or offscreen size, WxH (fullscreen: the display's)")
    p.add_argument("--portrait", help="an image file instead of the configured portrait")
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--grab", metavar="COMMAND", help="take each screenshot with this command ({path}: the PNG), "
                   "e.g. 'import -window root {path}'")
    a = p.parse_args(argv)
    w, h = (int(v) for v in a.size.lower().split("x"))
    overrides = [f"face.size=[{w},{h}]", "voice.cache_faq=false"]
    if a.portrait:
        overrides.append(f"face.portrait={a.portrait}")
    config = load(overrides=overrides)
    voice_port = LocalPort()
    voice = Voice(config, voice_port)
    voice.setup()
    for seq, (text, mood) in enumerate(SENTENCES):
        voice.handle(Message(Sentence(text, mood), 1, seq))
    voice.handle(Message(ReplyEnd(), 1, len(SENTENCES)))
    speech = voice_port.take()
    first_s = len(speech[0].body.samples()) / speech[0].body.rate if isinstance(speech[0].body, Speech) else 0.0
    shots = dict(SHOTS, **{"speaking-concern": 225 + round((first_s + 0.9) * FPS)})

    a.out.mkdir(parents=True, exist_ok=True)
    port = LocalPort()
    face = Face(config, port, {"display": a.display, "seed": a.seed}, clock=ManualClock(t_ns=1_000_000_000))
    face.setup()
    try:
        for k in range(max(shots.values()) + 1):
            match SCRIPT.get(k):
                case "listening" | "thinking" as state:
                    face.on_command(Visitor(state))
                case "reply":
                    for msg in speech:
                        face.handle(msg)
                    face.on_command(Visitor("idle"))
                case "degraded":
                    face.on_command(Status("brain", "The assistant is restarting", problem=True))
            face.tick()
            for name, at in shots.items():
                if at == k:
                    if a.grab:  # what the display itself shows, taken by an outside program
                        subprocess.run(a.grab.format(path=a.out / f"{name}.png"), shell=True, check=True)
                    else:
                        pygame.image.save(face.screen.surface, str(a.out / f"{name}.png"))
    finally:
        face.teardown()
    times = np.array([ms for e in port.reported if e["event"] == "frame_stats" for ms in e["render_ms"]])
    print(f"{face.screen.size[0]}x{face.screen.size[1]} ({face.screen.mode}): frame p50 "
          f"{np.percentile(times, 50):.1f} ms, p99 {np.percentile(times, 99):.1f} ms over {len(times)} frames; "
          f"screenshots in {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
