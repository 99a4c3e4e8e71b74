"""Fixtures the command-line, settings and logging tests share."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.logging_setup import QUIET_LOGGERS, WEBHOOK_LOGGER
from bot.settings import Settings


@pytest.fixture
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder to run in, and no setting from the real environment or a real .env."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def restore_logging():
    """Put the test run's logging back after a test that configures it (as `run` does)."""
    root = logging.getLogger()
    names = [*QUIET_LOGGERS, WEBHOOK_LOGGER]
    saved = (root.level, list(root.handlers))
    factory = logging.getLogRecordFactory()
    handler_filters = {handler: list(handler.filters) for handler in root.handlers}
    saved_loggers = {
        name: (logging.getLogger(name).level, list(logging.getLogger(name).filters))
        for name in names
    }
    yield
    logging.setLogRecordFactory(factory)
    for handler, kept_filters in handler_filters.items():
        handler.filters[:] = kept_filters
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, (level, kept) in saved_loggers.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).filters[:] = kept
