"""Resource use of kioskd's processes, read from /proc: memory, CPU time, open file descriptors, shared
memory segments. Every process under the supervisor counts: the workers, the zygote they fork from and
multiprocessing's resource tracker.

Memory is given two ways. RSS counts every resident page a process maps, so pages shared between
processes (the zygote's imports, which every worker maps copy-on-write; shared libraries) are counted
once per process and the sum overstates what the machine spends. PSS divides each shared page among
the processes that map it, so the PSS sum is the memory kioskd actually uses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    rss_mb: dict[str, float]  # process name -> resident set
    pss_mb: dict[str, float]  # process name -> proportional set
    cpu_s: dict[str, float]  # process name -> user + system CPU seconds so far
    fds: int  # open descriptors, all processes
    shm: int  # kioskd shared-memory segments in /dev/shm

    @property
    def rss_mb_total(self) -> float:
        return round(sum(self.rss_mb.values()), 1)

    @property
    def pss_mb_total(self) -> float:
        return round(sum(self.pss_mb.values()), 1)


def field_mb(path: str, key: str) -> float:
    """A kB field of a /proc file such as status or smaps_rollup ("VmRSS:"), in MB; 0 if absent."""
    for line in Path(path).read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s(pid: int) -> float:
    # Fields after the command name (which may hold spaces) start at index 2 (state); utime, stime are 13, 14.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _name(pid: int, supervisor_pid: int) -> str:
    if pid == supervisor_pid:
        return "kioskd"
    args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    if args.startswith("kioskd: "):  # setproctitle
        return args.removeprefix("kioskd: ")
    return "resource_tracker" if "resource_tracker" in args else f"pid {pid}"


def processes(supervisor_pid: int) -> dict[str, int]:
    """The supervisor and all its descendants, by name."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(_parent(int(entry)), []).append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    found, todo = [], [supervisor_pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return {_name(pid, supervisor_pid): pid for pid in found}


def sample(supervisor_pid: int) -> Sample | None:
    """One reading of every process; None if one vanished while it was read (a worker restarting)."""
    try:
        pids = processes(supervisor_pid)
        rss = {name: round(field_mb(f"/proc/{pid}/status", "VmRSS:"), 1) for name, pid in pids.items()}
        pss = {name: round(field_mb(f"/proc/{pid}/smaps_rollup", "Pss:"), 1) for name, pid in pids.items()}
        cpu = {name: _cpu_s(pid) for name, pid in pids.items()}
        fds = sum(len(os.listdir(f"/proc/{pid}/fd")) for pid in pids.values())
    except (FileNotFoundError, ProcessLookupError):
        return None
    shm = sum(1 for name in os.listdir("/dev/shm") if name.startswith(f"kioskd.{supervisor_pid}."))
    return Sample(rss, pss, cpu, fds, shm)
