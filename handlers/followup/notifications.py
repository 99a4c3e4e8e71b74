"""The texts of the messages the outbox sends: one per notification kind.

Each goes out in the language the outbox gives (the following chat's choice, else the report's),
and names the account and the phone for the report's make (never "your iPhone" to a Samsung
owner).
"""

from __future__ import annotations

from typing import Any

from handlers.context import HandlerConfig
from handlers.i18n.languages import usable
from handlers.i18n.platforms import platform_words
from handlers.texts import has, text
from models.services.alerts import is_alert

STATUS_PREFIX = "status:"


def render_notification(
    kind: str,
    reference: str,
    language: str | None,
    config: HandlerConfig | None = None,
    *,
    make: str | None = None,
    platform: str | None = None,
    alert_params: dict[str, Any] | None = None,
) -> str:
    """The message for a notification of KIND about REFERENCE, in LANGUAGE, for the phone's MAKE.

    Staff alerts (`alert:...`) are written in English from their own ALERT_PARAMS.
    """
    if is_alert(kind):
        return text("staff." + kind.replace(":", "_"), "en", **(alert_params or {}))
    config = config or HandlerConfig()
    language = usable(language)
    params: dict[str, object] = {
        "reference": reference,
        "police": config.non_emergency_number,
        "emergency": config.emergency_number,
        **platform_words(make, language, platform),
    }
    name = kind.removeprefix(STATUS_PREFIX)
    if has(f"notifications.{name}", language):
        return text(f"notifications.{name}", language, **params)
    if not kind.startswith(STATUS_PREFIX):
        raise KeyError(f"no notification text for {kind!r}")
    # A status with no message of its own (e.g. under_review): named in a general one.
    label = text(f"followup.status_{name}", language)
    return text("notifications.status", language, status=label, **params)
