"""The neural face driver's own process: takes the newest mouth request from one mailbox, answers in another.

    python -m daemon.face_driver_process MODEL REQUEST_MAILBOX ANSWER_MAILBOX ACCEL_SETTINGS_JSON

Run by the face (daemon/neural_mouth.py), never by hand. A model slower than the frame rate only ever
works on the newest request (the mailboxes are latest-wins), so it falls behind without queueing; the
face draws the rig's mouth whenever the answer is too old. The process ends when its parent does. It runs the
model on the backend accel/ chooses for `face_driver`; a configured order with nothing usable is a model it
cannot use (reported once, not retried).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from accel.selection import AccelUnavailable, choose
from accel.settings import AccelSettings
from daemon.mailbox import Mailbox
from models.face_driver import CROP, MEL_BANDS, MEL_STEPS, FaceDriver
from models.registry import ModelError

FRAME = np.dtype([("frame", "<u8"), ("mel", "<f4", (MEL_BANDS, MEL_STEPS)), ("crop", "u1", (CROP, CROP, 3))])
ANSWER = np.dtype([("frame", "<u8"), ("ms", "<f4"), ("crop", "u1", (CROP, CROP, 3))])
IDLE_POLL_S = 0.002


def serve(model: str, requests: Mailbox, answers: Mailbox, parent: int, accel: AccelSettings) -> None:
    driver = FaceDriver(model, choice=choose("face_driver", accel))
    while os.getppid() == parent:
        got = requests.read()
        if got is None:
            time.sleep(IDLE_POLL_S)
            continue
        ask = np.frombuffer(got[1], FRAME, count=1)[0]
        t0 = time.perf_counter()
        crop = driver(ask["mel"], ask["crop"])
        answer = np.zeros(1, ANSWER)
        answer["frame"], answer["ms"], answer["crop"] = ask["frame"], (time.perf_counter() - t0) * 1000, crop
        answers.write(answer.tobytes())


def main(argv: list[str]) -> int:
    model, request_name, answer_name, accel = argv
    parent = os.getppid()
    requests, answers = Mailbox.attach(request_name), Mailbox.attach(answer_name)
    try:
        serve(model, requests, answers, parent, AccelSettings.from_json(accel))
    except (ModelError, AccelUnavailable) as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        requests.close()
        answers.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
