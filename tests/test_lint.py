"""The codebase stays ruff-clean (the rules are in pyproject.toml) and layered: the kiosk's own packages never
import the bench that measures them."""

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
