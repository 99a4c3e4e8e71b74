"""What a report cannot do without, read from the answers alone (the review asks it again)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.conversation import states


def channels(answers: Mapping[str, Any]) -> list[str]:
    """The channels on offer: e-mail only with an address, this chat only if it is theirs."""
    offered = ["call", "sms"]
    if answers.get("contact_email"):
        offered.append("email")
    if answers.get("own_account"):
        offered.append("telegram")
    return offered


def first_gap(answers: Mapping[str, Any]) -> str | None:
    """The first step whose answer the report cannot do without (or that no longer fits)."""
    if "own_account" not in answers:
        return states.ACCOUNT
    if not answers.get("make"):
        return states.MAKE
    if not answers.get("contact_name"):
        return states.CONTACT_NAME
    contact, stolen = answers.get("contact_phone"), answers.get("number")
    if not contact or (stolen and stolen["e164"] == contact["e164"]):
        return states.CONTACT_PHONE
    if answers.get("preferred_channel") not in channels(answers):
        return states.CHANNEL
    return None
