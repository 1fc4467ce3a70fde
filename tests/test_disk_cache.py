"""The start-up caches: each restores exactly what it saves, names its inputs in its key, and a damaged
or unwritable cache costs time, never correctness."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from daemon.config import load, resolve
from models.disk_cache import DiskCache
from models.faq import load_faq
from models.llm_llama import LlamaLlm
from models.llm_prompt import messages
from models.prepare import gemma_path, piper_voice_path
from models.retrieval_e5 import ExampleIndex
from models.tts_piper import PiperTts


def test_arrays_round_trip_and_damage_reads_as_missing(tmp_path: Path) -> None:
    cache = DiskCache("things", tmp_path)
    assert cache.get("a") is None
    cache.put("a", {"x": np.arange(5)})
    got = cache.get("a")
    assert got is not None and np.array_equal(got["x"], np.arange(5))
    assert cache.get("b") is None
    path = cache.path("a", ".npz")
    assert path is not None
    path.write_bytes(b"not an npz")
    assert cache.get("a") is None
    assert not list((tmp_path / "things").glob("*.tmp.*"))


def test_unwritable_cache_turns_itself_off(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    cache = DiskCache("things", blocker)
    assert cache.folder is None and cache.path("a", ".npz") is None
    cache.put("a", {"x": np.arange(3)})
    assert cache.get("a") is None


def test_faq_embeddings_come_back_from_the_cache(tmp_path: Path) -> None:
    examples = [(f"faq:{i}", q) for i, e in enumerate(load_faq(resolve(load().brain.faq))) for q in e.questions]
    cache = DiskCache("embeddings", tmp_path)
    fresh = ExampleIndex(examples, cache=cache)
    assert len(list((tmp_path / "embeddings").glob("*.npz"))) == 1
    cached = ExampleIndex(examples, cache=cache)
    assert np.array_equal(cached._matrix, fresh._matrix)
    assert cached.rank("where can I get some cash") == fresh.rank("where can I get some cash")
    # Other examples are another entry, not a stale matrix of the wrong size.
    ExampleIndex(examples[:3], cache=cache)
    assert len(list((tmp_path / "embeddings").glob("*.npz"))) == 2


def test_restored_llm_prefix_answers_like_an_evaluated_one(tmp_path: Path) -> None:
    c = load().brain
    persona = resolve(c.persona).read_text(encoding="utf-8")
    cache = DiskCache("llm", tmp_path)
    prefix = messages(persona, ["We open at nine."], "Hello", [])
    question = messages(persona, ["We open at nine."], "When do you open?", [0])

    def answer(llm: LlamaLlm) -> str:
        return "".join(llm.stream(question, max_tokens=12, temperature=0.0))

    evaluated = LlamaLlm(gemma_path(), c.llm.context, 1)
    assert evaluated.warm(prefix, cache) is False  # first start: evaluated and saved
    restored = LlamaLlm(gemma_path(), c.llm.context, 1)
    assert restored.warm(prefix, cache) is True
    assert restored._llm.n_tokens == evaluated._llm.n_tokens > 20
    assert answer(restored) == answer(evaluated) != ""
    # Another context size is another key.
    assert LlamaLlm(gemma_path(), c.llm.context * 2, 1).warm(prefix, cache) is False


def test_voice_graph_is_cached_and_a_damaged_one_rebuilt(tmp_path: Path) -> None:
    cache = DiskCache("onnx", tmp_path)
    PiperTts(piper_voice_path(), patched=True, cache=cache)
    saved = list((tmp_path / "onnx").glob("*.onnx"))
    assert len(saved) == 1 and saved[0].stat().st_size > 1_000_000
    speech = PiperTts(piper_voice_path(), patched=True, cache=cache).synthesize("Hello there.")
    assert len(speech.pcm) > speech.rate // 4 and speech.phonemes
    saved[0].write_bytes(b"garbage")
    speech = PiperTts(piper_voice_path(), patched=True, cache=cache).synthesize("Hello there.")
    assert len(speech.pcm) > speech.rate // 4
    assert saved[0].stat().st_size > 1_000_000  # rebuilt


def test_cache_folder_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from daemon.paths import cache_dir

    monkeypatch.setenv("KIOSKD_CACHE_DIR", str(tmp_path))
    assert DiskCache("llm", cache_dir()).folder == tmp_path / "llm"
    monkeypatch.delenv("KIOSKD_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == (Path("/var/cache/kioskd") if os.geteuid() == 0 else tmp_path / "xdg" / "kioskd")
