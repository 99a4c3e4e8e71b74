"""The answers about how the phone went: kinds of loss and ways of theft, read from a draft."""

from __future__ import annotations

from typing import Any

from models.values.loss import LossKind, loss_kind_of_method

# The lost-or-stolen button's value -> the kind stored on the report, and the theft_method it
# implies (a theft from the person then asks how).
CHOICES: dict[str, tuple[LossKind, str | None]] = {
    "theft": (LossKind.THEFT_FROM_PERSON, None),
    "robbery": (LossKind.ROBBERY, "force"),
    "lost": (LossKind.LOST, "lost"),
}
# The register's theft_method codes for a theft from the person, in the order of the buttons.
METHODS = ("snatched_foot", "snatched_bike", "snatched_moped", "pickpocket")


def loss_kind(answers: dict[str, Any]) -> LossKind | None:
    """The kind of loss the answers say (drafts from before the question: from the method)."""
    stored = answers.get("loss_kind")
    if stored:
        return LossKind(stored)
    return loss_kind_of_method(answers.get("theft_method"))
