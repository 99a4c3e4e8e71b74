"""Tests marked with one xdist_group run on one worker, one after another.

Tests that hold most of PostgreSQL's connections ("many_connections") or run a Chromium
("browser") rely on it; pytest-xdist marks a grouped test by adding "@group" to its id, and a
pytest that keeps the id elsewhere silently lets grouped tests run side by side.
"""

from __future__ import annotations

import os

import pytest


@pytest.mark.xdist_group("grouping_probe")
def test_a_grouped_test_carries_its_group_to_the_scheduler(request: pytest.FixtureRequest) -> None:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("without workers every test runs one after another")
    assert request.node.nodeid.endswith("@grouping_probe")
