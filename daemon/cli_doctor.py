"""`kioskctl doctor [--json]`: where each model will run on this machine and why, read from the config alone.

It needs no running kioskd: it loads the same layered configuration kioskd would (--profile, --config, -o)
and asks the libraries and drivers what they offer, as the workers do at start (daemon/accel_report.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from daemon import config_options
from daemon.config import ConfigError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = sub.add_parser("doctor", help="which backend (TensorRT, CUDA, CANN, CPU) each model will run on, and why")
    config_options.add_options(d)
    d.add_argument("--json", action="store_true", help="print the whole report as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        cfg = config_options.load(args)
    except ConfigError as exc:
        print(f"kioskctl doctor: bad config:\n{exc}", file=sys.stderr)
        return 1
    from daemon.accel_report import report  # here: every other kioskctl command would pay for its imports

    found = report(cfg)
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        _print(found)
    return 0


def _print(found: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Wide enough not to fold the reasons when piped into a log or a file; a terminal keeps its own width.
    console = Console(width=None if sys.stdout.isatty() else 140, highlight=False)
    models = Table(title="Models", title_justify="left")
    for column in ("model", "config", "runs on", "cache"):
        models.add_column(column)
    for m in found["models"]:
        used = f"{m['setting']}: {m['file']}" if m["in_use"] else f"{m['setting']}: not used"
        models.add_row(m["model"], Text(used), m["backend"] or "NONE USABLE", Text(_cache(m["cache"])))
    console.print(models)
    for m in found["models"]:
        console.print(Text(f"{m['model']}: {m['why']}"), soft_wrap=True)
        for skip in m["skipped"]:
            console.print(Text(f"    skipped {skip['backend']}: {skip['reason']}"), soft_wrap=True)
    devices = Table(title="Devices and libraries", title_justify="left")
    for column in ("what", "found", "note"):
        devices.add_column(column)
    for d in found["devices"]:
        devices.add_row(d["what"], Text(_found(d["found"])), Text(d["note"]))
    console.print(devices)
    upgrade = found["asr_upgrade"]
    console.print(Text(f"ASR upgrade: {'in use' if upgrade['available'] else 'none'}: {upgrade['why']}"),
                  soft_wrap=True)
    zh = found["chinese_voice"]
    console.print(Text(f"Chinese voice: {zh['setting']} on {zh['runs_on']}; loaded {zh['loaded']}"), soft_wrap=True)


def _cache(cache: dict[str, Any]) -> str:
    if "note" in cache:
        return cache["note"]
    lines = []
    if cache["tensorrt_engine"] is None:
        lines.append(f"TensorRT engines: {cache['tensorrt_engine_dir']} (not used here)")
    else:
        lines.append(f"TensorRT engine: {cache['tensorrt_engine']} ({'built' if cache['engine_present'] else 'none yet'})")
    if cache["cpu_optimised_graph"] is not None:
        lines.append(f"CPU optimised graph: {'present' if cache['cpu_graph_present'] else 'absent'} "
                     f"({cache['cpu_optimised_graph']})")
    return "\n".join(lines)


def _found(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value else "none"
