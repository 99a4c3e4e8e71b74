"""An answer to give again: what a step raises when what was typed or tapped cannot be kept."""

from __future__ import annotations

from typing import Any


class BadAnswer(Exception):
    """An answer to give again; KEY names the text that says why (with PARAMS)."""

    def __init__(self, key: str, **params: Any) -> None:
        """Remember which text explains the problem."""
        super().__init__(key)
        self.key = key
        self.params = params
