"""Entry point of the HTTP API's process (`python -m daemon.api_main`), started by the supervisor
(daemon/api_child.py): reads or creates the bearer token, listens for the supervisor's events, and serves
daemon/api.py with uvicorn until SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import stat
import sys
from pathlib import Path

import uvicorn
from setproctitle import setproctitle

from daemon.api import EventFeed, create_app
from daemon.bus import Bus
from daemon.worker import bus_path
from daemon.worker_main import die_with_parent

log = logging.getLogger("kioskd.api")


class TokenError(RuntimeError):
    """The token file cannot be used."""


def read_token(path: Path) -> str:
    """The token in `path`, created (random, 0600) when missing. A file others may read is refused: the
    token is the kiosk's only lock against anyone on the box."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
        log.info("created the API token in %s", path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise TokenError(f"api.token_file {path} can be read by others (mode {mode:04o}): chmod 600 it")
    token = path.read_text(encoding="utf-8").strip()
    if len(token) < 16:
        raise TokenError(f"api.token_file {path} holds no token of at least 16 characters")
    return token


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="kioskd-api", description="kioskd's HTTP API (started by kioskd)")
    p.add_argument("--runtime-dir", type=Path, required=True)
    p.add_argument("--listen", required=True, metavar="HOST:PORT")
    p.add_argument("--token-file", type=Path, required=True)
    args = p.parse_args(argv)
    setproctitle("kioskd: api")
    die_with_parent()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s api   %(levelname)s %(message)s", stream=sys.stderr)
    try:
        token = read_token(args.token_file)
    except (TokenError, OSError) as exc:
        log.error("%s", exc)
        return 2
    host, _, port = args.listen.rpartition(":")
    feed = EventFeed(Bus(bus_path(args.runtime_dir, "api")))
    app = create_app(args.runtime_dir, token, feed)
    # An open event stream must not hold up a stop: the supervisor waits for this process.
    uvicorn.run(app, host=host.strip("[]"), port=int(port), log_level="warning", timeout_graceful_shutdown=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
