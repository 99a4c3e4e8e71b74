"""The security advice, tailored to iPhone, Android or another phone; texts in locales/advice."""

from __future__ import annotations

from handlers.i18n.platforms import warnings
from handlers.texts import text

PLATFORMS = ("iphone", "android", "other")


def platform_or_other(platform: str | None) -> str:
    """PLATFORM if we have advice for it, else the general advice."""
    return platform if platform in PLATFORMS else "other"


def urgent(language: str, platform: str | None) -> str:
    """'Do this now': lock or mark the phone lost, block SIM and IMEI, bank, passwords."""
    return text(f"advice.urgent_{platform_or_other(platform)}", language)


def full(language: str, platform: str | None, make: str | None = None) -> list[str]:
    """The whole advice, a few short messages: accounts, scams and money, the next phone.

    The scam warnings name the account and the phone for MAKE (else for PLATFORM).
    """
    chosen = platform_or_other(platform)
    return [
        text(f"advice.accounts_{chosen}", language),
        text("advice.money_and_scams", language, **warnings(make, language, platform)),
        text(f"advice.next_phone_{chosen}", language),
    ]


def find_imei(language: str, platform: str | None) -> str:
    """Where to find the IMEI when the phone is gone."""
    return text(f"advice.find_imei_{platform_or_other(platform)}", language)


def choose_platform_text(language: str) -> str:
    """The question before the advice when the phone's platform is not known yet."""
    return text("advice.choose_platform", language)
