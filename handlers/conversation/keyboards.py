"""Inline keyboards: callback data `c:<draft token>:<step>:<value>`, always under 64 bytes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.engine import callbacks

PREFIX = "c"
ANY_STEP = "*"  # a button that works at every step (language, clear, continue, ...)
NO_DRAFT = "-"  # a button that needs no draft (the advice's platform choice)
MAX_CALLBACK_BYTES = callbacks.MAX_BYTES
PER_ROW = 2


@dataclass(frozen=True, slots=True)
class Press:
    """A pressed button of this conversation: which draft, which step, which value."""

    token: str
    step: str
    value: str


def callback_data(token: str, step: str, value: str) -> str:
    """The callback data for a button; refuses anything Telegram would not take."""
    return callbacks.pack(PREFIX, token, step, value)


def parse(data: str | None) -> Press | None:
    """The press that DATA encodes, or None when it is not one of ours or malformed."""
    parts = callbacks.unpack(data, PREFIX, 3)
    return Press(*parts) if parts is not None else None


def button(label: str, token: str, step: str, value: str) -> InlineKeyboardButton:
    """One button that presses VALUE at STEP of the draft with TOKEN."""
    return InlineKeyboardButton(label, callback_data=callback_data(token, step, value))


def rows(buttons: Sequence[InlineKeyboardButton], per_row: int = PER_ROW) -> list[list]:
    """Buttons laid out PER_ROW to a row, so that labels stay readable on a phone."""
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def markup(*groups: Iterable[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    """A keyboard from groups of rows (empty rows dropped); None when there is no button."""
    keyboard = [row for group in groups for row in group if row]
    return InlineKeyboardMarkup(keyboard) if keyboard else None
