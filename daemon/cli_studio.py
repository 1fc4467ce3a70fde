"""`kioskctl studio`: a web page (Gradio, daemon/studio.py) to make videos of the face offline and to watch
the running kiosk, on 127.0.0.1:7860 unless told otherwise. Nothing leaves the box: Gradio's analytics and
share links are off, and its page loads nothing from outside it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

from daemon import config_options, log_setup
from daemon.config import ConfigError

PROG = "kioskctl studio"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("studio", help="a web page to make videos of the face and watch the kiosk (127.0.0.1:7860)",
                       description="Serve the studio: make a video of a portrait saying a text (or following a "
                                   "recording) in the browser, and see the running kiosk's state, timings and "
                                   "screen. Renders run here, one at a time; nothing leaves the box.")
    s.add_argument("--port", type=_port, default=7860, help="the port to serve on (default 7860)")
    s.add_argument("--host", default="127.0.0.1",
                   help="the address to serve on (default 127.0.0.1: this machine only; 0.0.0.0 exposes the "
                        "studio to the network, with no password)")
    config_options.add_options(s)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return int(text)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # before anything imports pygame
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read as gradio is imported: no version check either
    log_setup.configure("studio")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line for every request Gradio and the status tab make
    with tempfile.TemporaryDirectory(prefix="kioskd-studio-") as work:
        os.environ["GRADIO_TEMP_DIR"] = work  # uploads and videos in a folder of ours, gone when the studio stops
        from daemon.studio import Studio, page

        try:
            studio = Studio(args, Path(work))
        except ConfigError as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return 1
        blocks = page(studio)
        try:
            blocks.queue().launch(server_name=args.host, server_port=args.port, share=False, quiet=True,
                                  prevent_thread_lock=True, show_error=False, ssr_mode=False, pwa=False,
                                  mcp_server=False, enable_monitoring=False, run_history=False,
                                  footer_links=["api", "settings"], max_file_size="200mb")
        except OSError:
            print(f"{PROG}: cannot serve on {args.host}:{args.port}: the port is in use or the address is not "
                  "this machine's (--host, --port)", file=sys.stderr)
            return 1
        # SIGTERM and SIGHUP (the terminal closed) stop it as Ctrl-C does, so the folder is removed.
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.default_int_handler)
        print(f"{PROG}: serving on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                signal.pause()
        except KeyboardInterrupt:
            print(f"{PROG}: stopped", file=sys.stderr)
        finally:
            blocks.close()
    return 0
