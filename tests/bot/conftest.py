"""Fixtures the command-line and settings tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings


@pytest.fixture
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder to run in, and no setting from the real environment or a real .env."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path
