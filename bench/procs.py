"""Resource use of kioskd's processes, read from /proc: RSS, CPU time, open file descriptors, shared memory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    rss_mb: dict[str, float]  # process name -> resident set
    cpu_s: dict[str, float]  # process name -> user + system CPU seconds so far
    fds: int  # open descriptors, all processes
    shm: int  # kioskd shared-memory segments in /dev/shm

    @property
    def rss_mb_total(self) -> float:
        return round(sum(self.rss_mb.values()), 1)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s(pid: int) -> float:
    # Fields after the command name (which may hold spaces) start at index 2 (state); utime, stime are 13, 14.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def sample(pids: dict[str, int], supervisor_pid: int) -> Sample | None:
    """One reading of every process; None if one of them is gone."""
    try:
        rss = {name: round(_rss_mb(pid), 1) for name, pid in pids.items()}
        cpu = {name: _cpu_s(pid) for name, pid in pids.items()}
        fds = sum(len(os.listdir(f"/proc/{pid}/fd")) for pid in pids.values())
    except (FileNotFoundError, ProcessLookupError):
        return None
    shm = sum(1 for name in os.listdir("/dev/shm") if name.startswith(f"kioskd.{supervisor_pid}."))
    return Sample(rss, cpu, fds, shm)
