"""Cleaning what people type: the engine's one cleaner, as the conversation's steps use it."""

from __future__ import annotations

from handlers.engine.answers import BadAnswer
from handlers.engine.cleaning import MAX_EMAIL, clean_email, clean_name, clean_text

__all__ = ["MAX_EMAIL", "BadAnswer", "clean_email", "clean_name", "clean_text"]
