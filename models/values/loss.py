"""How the phone was lost, as police record it: lost (no crime), theft from the person, robbery."""

from __future__ import annotations

from enum import StrEnum

from models.errors import RegisterError

__all__ = ["THEFT_METHODS", "LossKind", "UnknownLossKind", "loss_kind_of_method"]


class UnknownLossKind(RegisterError):
    """Not one of the kinds of loss the register knows."""


class LossKind(StrEnum):
    """Lost (not a crime), theft from the person, or robbery (force or threats)."""

    LOST = "lost"
    THEFT_FROM_PERSON = "theft_from_person"
    ROBBERY = "robbery"

    @property
    def is_crime(self) -> bool:
        """Whether this is a crime to report to the police (a lost phone is not)."""
        return self is not LossKind.LOST

    @property
    def urges_police_report(self) -> bool:
        """Whether the victim should be pushed to report it now (101, or 999 if in danger)."""
        return self is LossKind.ROBBERY

    @classmethod
    def parse(cls, text: str) -> LossKind:
        """A kind from its name (any case, dashes or spaces for underscores)."""
        words = text.strip().casefold().replace("-", " ").replace("_", " ").split()
        key = "_".join(word for word in words if word != "the")
        try:
            return cls(key)
        except ValueError:
            raise UnknownLossKind(
                "loss_kind_unknown", allowed=", ".join(kind.value for kind in cls)
            ) from None


# How the conversation's `theft_method` answers map onto what police count.
_OF_METHOD = {
    "snatched_foot": LossKind.THEFT_FROM_PERSON,
    "snatched_bike": LossKind.THEFT_FROM_PERSON,
    "snatched_moped": LossKind.THEFT_FROM_PERSON,
    "pickpocket": LossKind.THEFT_FROM_PERSON,
    "force": LossKind.ROBBERY,
    "lost": LossKind.LOST,
}

# Every answer to "how was it taken?", in the order the conversation offers them.
THEFT_METHODS: tuple[str, ...] = tuple(_OF_METHOD)


def loss_kind_of_method(method: str | None) -> LossKind | None:
    """The kind of loss a `theft_method` answer implies, or None when it says nothing."""
    if method is None:
        return None
    return _OF_METHOD.get(method)
