"""Errors the register raises: a code and parameters, put into words by each face."""

from __future__ import annotations

from typing import Any


class RegisterError(Exception):
    """A refusal the user can act on: CODE names it (catalogue key `errors.<code>`)."""

    def __init__(self, code: str, **params: Any) -> None:
        """Keep CODE and PARAMS; the text is the faces' business, never the register's."""
        super().__init__(code)
        self.code = code
        self.params = params

    def __repr__(self) -> str:
        """The code and the names of the parameters (their values may be personal data)."""
        return f"{type(self).__name__}({self.code!r}, params={sorted(self.params)})"
