"""Targets that `Result.below` does not express: at least a value, and exactly zero."""

from __future__ import annotations

import math

from bench.common import Result


def at_least(result: Result, key: str, value: float, limit: float, unit: str) -> None:
    """Record the target that figure KEY (VALUE) reaches LIMIT."""
    result.targets[key] = {
        "target": f">= {limit:g} {unit}".rstrip(),
        "value": value,
        "met": bool(not math.isnan(value) and value >= limit),
    }


def zero(result: Result, key: str, value: int) -> None:
    """Record the target that count KEY (VALUE) is zero."""
    result.targets[key] = {"target": "= 0", "value": value, "met": value == 0}


def at_most(result: Result, key: str, value: float, limit: float, unit: str) -> None:
    """Record the target that figure KEY (VALUE) does not exceed LIMIT."""
    result.targets[key] = {
        "target": f"<= {limit:g} {unit}".rstrip(),
        "value": value,
        "met": bool(not math.isnan(value) and value <= limit),
    }
