"""What the zygote imports before it forks workers. Imported by multiprocessing's fork server (see
daemon/spawner.py) and nowhere else: importing this module *is* the preload.

A restarted worker forked from the zygote skips Python's start-up and 0.5-1.4 s of imports per worker
(CPU time measured on two cores), which is most of what separated a restart from the 2 s target. Only
modules that start no thread on import belong here: a fork copies the calling thread alone, and a
library whose thread vanished under it misbehaves (onnxruntime starts one, so `accel.providers` imports
it lazily, in the worker). tests/test_supervisor.py checks that the zygote stays single-threaded.
"""

from __future__ import annotations

import importlib

from setproctitle import setproctitle

from daemon.worker_table import PRELOAD

setproctitle("kioskd: zygote")
for _name in PRELOAD:
    importlib.import_module(_name)
