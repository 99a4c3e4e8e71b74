"""Addresses staff are sent to (no web framework here: the Telegram face uses it too)."""

from __future__ import annotations

SIGN_IN_PATH = "/signin"


def sign_in_url(base_url: str, token: str) -> str:
    """The full one-time sign-in address for TOKEN under BASE_URL."""
    return f"{base_url.rstrip('/')}{SIGN_IN_PATH}/{token}"
