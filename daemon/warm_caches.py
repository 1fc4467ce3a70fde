"""Build the start-up caches (models/disk_cache.py) that a kiosk would otherwise build on its first boot:
the embedded model files found intact (kioskd checks them before it starts), the router's example
embeddings and the LLM's evaluated prompt prefix (brain), the voice's optimised graph and the first
sentence of every answer it keeps ready (voice). It runs the workers' own
setup, so what it writes is exactly what they will look for. `kioskctl install` and scripts/setup.sh run it.

    python -m daemon.warm_caches [--config SITE] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from daemon.config import ConfigError, load
from daemon.stage import LocalPort


def warm(site: Path | None) -> bool:
    """False when an embedded model file is damaged (named on stderr): the kiosk would refuse to start."""
    from daemon.model_check import problems
    from daemon.workers.brain import Brain
    from daemon.workers.voice import Voice

    config = load(site=site)
    t0 = time.monotonic()
    damaged = problems(config)
    for line in damaged:
        print(f"  models: {line}", file=sys.stderr)
    if damaged:
        return False
    print(f"  models: the files this config uses are intact ({time.monotonic() - t0:.1f} s)", flush=True)
    t0 = time.monotonic()
    brain = Brain(config, LocalPort())
    brain.setup()
    failed = brain.llm.exception(timeout=600)  # the prefix is evaluated on the LLM's loading thread
    prefix = ", the LLM's prompt prefix" if config.brain.llm.model and not failed else ""
    print(f"  brain: FAQ and dialogue embeddings{prefix} ({time.monotonic() - t0:.1f} s)"
          + (f"; the LLM could not load: {failed}" if failed else ""), flush=True)
    t0 = time.monotonic()
    Voice(config, LocalPort()).setup()
    print(f"  voice: optimised graph and the answers' first sentences ({time.monotonic() - t0:.1f} s)", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, help="site config file (default: $KIOSKD_CONFIG or /etc/kioskd/kioskd.yaml)")
    p.add_argument("--cache-dir", type=Path, help="where to build them (default: the kiosk's own cache folder)")
    args = p.parse_args(argv)
    if args.cache_dir is not None:
        os.environ["KIOSKD_CACHE_DIR"] = str(args.cache_dir)  # daemon.paths.cache_dir(), read by the workers
    try:
        return 0 if warm(args.config) else 1
    except ConfigError as exc:
        print(f"warm_caches: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
