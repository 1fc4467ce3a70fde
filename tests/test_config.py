"""Config schema and layering: the shipped files validate; bad ones name the key path and change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon import config
from daemon.cli_kioskctl import main as kioskctl


def test_default_and_profiles_validate() -> None:
    cfg = config.load()
    assert cfg.brain.faq == Path("faq/bank-lobby.yaml")
    assert config.load(profile="exhibition").brain.faq == Path("faq/exhibition.yaml")


def test_layers_later_wins(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("vad:\n  end_silence_ms: 500\nface:\n  fps: 25\n")
    cfg = config.load(site=site, overrides=["face.fps=20"])
    assert cfg.vad.end_silence_ms == 500
    assert cfg.face.fps == 20
    assert cfg.vad.threshold == 0.5  # untouched keys keep the default


def test_unknown_key_names_its_path(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("vad:\n  end_silense_ms: 500\n")
    with pytest.raises(config.ConfigError, match=r"vad\.end_silense_ms: unknown key"):
        config.load(site=site)


def test_wrong_type_names_its_path_and_value(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("face:\n  fps: fast\n")
    with pytest.raises(config.ConfigError, match=r"face\.fps: .*integer.*'fast'"):
        config.load(site=site)


def test_cross_field_rule() -> None:
    with pytest.raises(config.ConfigError, match=r"vad: .*neg_threshold must be below threshold"):
        config.load(overrides=["vad.neg_threshold=0.9"])


def test_not_a_mapping(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("- just\n- a list\n")
    with pytest.raises(config.ConfigError, match="top level must be a mapping"):
        config.load(site=site)


def test_bad_override_syntax() -> None:
    with pytest.raises(config.ConfigError, match=r"expected key\.path=value"):
        config.load(overrides=["face.fps"])


def test_kioskctl_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("site: Test branch\n")
    assert kioskctl(["validate", str(good)]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("asr:\n  beam_size: 0\n")
    assert kioskctl(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "asr.beam_size" in err and "greater than or equal to 1" in err
    assert kioskctl(["validate", str(tmp_path / "missing.yaml")]) == 1
    assert "no such config file" in capsys.readouterr().err


def test_a_language_other_than_english_swaps_the_english_only_default_whisper(tmp_path: Path) -> None:
    assert config.load().asr.model_used() == "embedded:tiny.en"
    for language in ("zh", "auto"):
        assert config.load(overrides=[f"asr.language={language}"]).asr.model_used() == config.MULTILINGUAL_ASR
    mine = tmp_path / "whisper"
    chosen = config.load(overrides=["asr.language=zh", f"asr.model={mine}"])
    assert chosen.asr.model_used() == str(mine)  # a model the site chose is never swapped
    with pytest.raises(config.ConfigError, match=r"asr\.language: .*'en', 'zh' or 'auto'"):
        config.load(overrides=["asr.language=de"])


def test_the_chinese_voice_is_checked_to_read_mandarin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert config.load().voice.chinese == "embedded:espeak-cmn"
    site = tmp_path / "site.yaml"
    site.write_text("voice:\n  chinese: embedded:en_US-joe-medium\n")
    assert kioskctl(["validate", str(site)]) == 1
    assert "voice.chinese: embedded:en_US-joe-medium reads en-us, not Mandarin" in capsys.readouterr().err
    site.write_text(f"voice:\n  chinese: {tmp_path / 'zh.onnx'}\n")
    assert kioskctl(["validate", str(site)]) == 1
    assert f"voice.chinese: {tmp_path / 'zh.onnx'} does not exist" in capsys.readouterr().err
