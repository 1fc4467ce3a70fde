"""The worker table is the one description of the workers: every row must be one the supervisor, the
zygote and a reload can act on."""

from __future__ import annotations

import importlib
from collections import Counter

from daemon.config import Config
from daemon.worker_table import PIPELINE, PRELOAD, WORKERS


def test_every_worker_feeds_a_worker_and_is_fed_once() -> None:
    assert PIPELINE == ("ear", "asr", "brain", "voice", "face")
    assert Counter(w.output.to for w in WORKERS) == Counter(PIPELINE)
    assert all(w.output.to != w.name for w in WORKERS)


def test_rows_name_real_modules_and_config_sections() -> None:
    sections = set(Config.model_fields)
    for w in WORKERS:
        assert set(w.sections) <= sections, w
        assert importlib.import_module(w.module).WORKER.__name__.lower() == w.name  # how a stage knows its name
        assert w.stop_grace_s > 0 and 0 <= w.nice <= 19


def test_the_zygote_preloads_every_worker_and_its_libraries() -> None:
    assert set(PRELOAD) == {w.module for w in WORKERS} | {lib for w in WORKERS for lib in w.preload}
