"""Settings: one table, read when used, documented once in the README."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestration import paths, settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_lists_every_setting() -> None:
    assert settings.readme_table() in README.read_text(encoding="utf-8")


def test_settings_are_read_when_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OGI_GATE_CHUNK_REPORTS", raising=False)
    assert settings.GATE_CHUNK_REPORTS.get() == 40_000
    monkeypatch.setenv("OGI_GATE_CHUNK_REPORTS", "2")
    assert settings.GATE_CHUNK_REPORTS.get() == 2
    monkeypatch.setenv("OGI_HOME", str(tmp_path / "elsewhere"))
    assert paths.current().home == tmp_path / "elsewhere"


@pytest.mark.parametrize("env, raw", [("OGI_MAX_BAD_SHARE", "1.5"), ("OGI_GATE_CHUNK_REPORTS", "0"),
                                      ("OGI_GATE_FULL", "maybe"), ("OGI_MAX_FILE_MB", "lots")])
def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, env: str, raw: str) -> None:
    monkeypatch.setenv(env, raw)
    setting = next(s for s in settings.SETTINGS if s.env == env)
    with pytest.raises(settings.SettingError, match=env):
        setting.get()


def test_gate_run_config_wins_over_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.defs.quality import QualityGateConfig

    monkeypatch.setenv("OGI_MAX_BAD_SHARE", "0.3")
    monkeypatch.setenv("OGI_GATE_FULL", "1")
    resolved = QualityGateConfig(max_bad_share=0.9).resolve()
    assert resolved.max_bad_share == 0.9 and resolved.full is True
    assert resolved.chunk_reports == settings.GATE_CHUNK_REPORTS.get()
