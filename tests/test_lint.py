"""The codebase stays ruff-clean (the rules are in pyproject.toml) and layered: the kiosk's own packages never
import the bench that measures them, and only `daemon/` wires: `kiosk/`, `models/` and `accel/` never
import it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean() -> None:
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", str(ROOT)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_kiosk_never_imports_the_bench() -> None:
    files = [f for package in ("daemon", "kiosk", "models", "accel") for f in (ROOT / package).rglob("*.py")]
    assert len(files) > 40
    upward = {str(f.relative_to(ROOT)): sorted(n for n in _imported(f) if n.split(".")[0] == "bench") for f in files}
    assert {f: names for f, names in upward.items() if names} == {}


def test_only_the_daemon_wires() -> None:
    files = [f for package in ("kiosk", "models", "accel") for f in (ROOT / package).rglob("*.py")]
    assert len(files) > 30
    upward = {str(f.relative_to(ROOT)): sorted(n for n in _imported(f) if n.split(".")[0] == "daemon") for f in files}
    assert {f: names for f, names in upward.items() if names} == {}


def test_every_event_is_named_once_in_the_vocabulary() -> None:
    """Stages emit, and the supervisor writes, members of daemon.events.Event, never a bare string, and every
    member is used somewhere: a renamed or forgotten event fails here, not in a benchmark that finds no such
    turns."""
    from daemon.events import Event

    bare, used = [], set()
    for f in (ROOT / "daemon").rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Event":
                used.add(node.attr)
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                bare.append(f"{f.relative_to(ROOT)}:{node.lineno} {node.args[0].value!r}")
            if isinstance(node, ast.Dict):  # the supervisor's own events, written as records
                bare += [f"{f.relative_to(ROOT)}:{node.lineno} {v.value!r}" for k, v in zip(node.keys, node.values, strict=True)
                         if isinstance(k, ast.Constant) and k.value == "event" and isinstance(v, ast.Constant)]
    assert bare == []
    assert {e.name for e in Event} - used == set()
