"""The texts of the messages the outbox sends: one per notification kind."""

from __future__ import annotations

from typing import Any

from handlers.context import HandlerConfig
from handlers.texts import has, text
from models.services.alerts import is_alert

STATUS_PREFIX = "status:"


def render_notification(
    kind: str,
    reference: str,
    language: str | None,
    config: HandlerConfig | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    """The message for a notification of KIND about REFERENCE, in LANGUAGE.

    Staff alerts (`alert:...`) are written in English from their own PARAMS.
    """
    if is_alert(kind):
        return text("staff." + kind.replace(":", "_"), "en", **(params or {}))
    config = config or HandlerConfig()
    params = {
        "reference": reference,
        "police": config.non_emergency_number,
        "emergency": config.emergency_number,
    }
    if kind.startswith(STATUS_PREFIX):
        status = kind.removeprefix(STATUS_PREFIX)
        key = f"followup.notify_{status}"
        if has(key, language or "en"):
            return text(key, language, **params)
        label = text(f"followup.status_{status}", language)
        return text("followup.notify_status", language, status=label, **params)
    return text(f"followup.notify_{kind}", language, **params)
