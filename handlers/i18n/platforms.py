"""The account and the phone named for the make the victim chose.

A Samsung owner's messages must not say "we found your iPhone", nor an Android owner's "your
Apple ID": every text that names the account or the device takes these words as parameters
(`$your_account`, `$your_phone`), from the catalogue keys `platform.your_account_<kind>` and
`platform.your_phone_<kind>`.
"""

from __future__ import annotations

from handlers.texts import Html, text

# What the wording follows: the make, and for "other" makes the platform.
KINDS = ("apple", "samsung", "google", "android", "other")


def platform_kind(make: str | None, platform: str | None = None) -> str:
    """apple, samsung, google, android (another Android make) or other."""
    if make in ("apple", "samsung", "google"):
        return make
    if platform == "iphone":
        return "apple"
    if platform == "android":
        return "android"
    return "other"


def your_account(make: str | None, language: str | None, platform: str | None = None) -> Html:
    """ "your Apple Account", "your Google account", ... or a neutral "your account"."""
    return Html(text(f"platform.your_account_{platform_kind(make, platform)}", language))


def your_phone(make: str | None, language: str | None, platform: str | None = None) -> Html:
    """ "your iPhone", "your Samsung phone", "your Pixel", ... or a neutral "your phone"."""
    return Html(text(f"platform.your_phone_{platform_kind(make, platform)}", language))


def platform_words(
    make: str | None, language: str | None, platform: str | None = None
) -> dict[str, Html]:
    """The parameters every per-platform text takes: your_account, your_phone."""
    return {
        "your_account": your_account(make, language, platform),
        "your_phone": your_phone(make, language, platform),
    }


def warnings(
    make: str | None, language: str | None, platform: str | None = None
) -> dict[str, Html]:
    """The scam warnings for the phone's make: police_never_ask, found_phone_scam."""
    words = platform_words(make, language, platform)
    return {
        "police_never_ask": Html(text("platform.police_never_ask", language, **words)),
        "found_phone_scam": Html(text("platform.found_phone_scam", language, **words)),
    }
