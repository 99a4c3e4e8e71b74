"""Where no Chromium is installed, browser tests skip; in CI they fail instead."""

from __future__ import annotations

import pytest

from tests.browser.harness import chromium_or_skip


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    """A machine with no browser on its PATH, outside CI."""
    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ("CHROMIUM_PATH", "CI", "REQUIRE_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_without_a_browser_the_tests_skip(no_chromium: pytest.MonkeyPatch) -> None:
    with pytest.raises(pytest.skip.Exception):
        chromium_or_skip()


@pytest.mark.parametrize("variable", ["CI", "REQUIRE_BROWSER"])
def test_in_ci_a_missing_browser_fails(no_chromium: pytest.MonkeyPatch, variable: str) -> None:
    no_chromium.setenv(variable, "1")

    with pytest.raises(pytest.fail.Exception):
        chromium_or_skip()


def test_an_installed_browser_is_found(no_chromium: pytest.MonkeyPatch, tmp_path) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)

    assert chromium_or_skip() == str(browser)
