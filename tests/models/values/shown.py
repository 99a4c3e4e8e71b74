"""How a parsed value shows itself, as one dict a test compares in one assertion."""

from __future__ import annotations


def shown(value: object, *names: str) -> dict[str, object]:
    """VALUE's text (under "str") and its attributes NAMES, by name."""
    return {"str": str(value), **{name: getattr(value, name) for name in names}}
