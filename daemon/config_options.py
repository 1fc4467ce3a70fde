"""The options that name a configuration (--profile, --config, -o), shared by kioskd and `kioskctl doctor`."""

from __future__ import annotations

import argparse
from pathlib import Path

from daemon import config as config_mod


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", help="configs/profiles/NAME.yaml layered on the default (bank-lobby, exhibition)")
    p.add_argument("--config", type=Path, help="site config file (default: $KIOSKD_CONFIG or /etc/kioskd/kioskd.yaml)")
    p.add_argument("-o", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override one config value (repeatable)")


def load(args: argparse.Namespace) -> config_mod.Config:
    """The configuration the options name; ConfigError naming the layer and key that are wrong."""
    return config_mod.load(profile=args.profile, site=args.config, overrides=args.overrides)
