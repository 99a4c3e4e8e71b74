"""The filing message and the advice name the account and the phone for the make chosen."""

from __future__ import annotations

import pytest

from handlers.conversation import states
from tests.handlers.conftest import Victim, press

MAKES = {
    "Apple (iPhone)": ("the password of your Apple Account", "“we found your iPhone”"),
    "Samsung": (
        "the password of your Samsung account or Google account",
        "“we found your Samsung phone”",
    ),
    "Google Pixel": ("the password of your Google account", "“we found your Pixel”"),
}


@pytest.mark.parametrize("make", list(MAKES))
async def test_the_filing_message_names_the_make_s_account(victim: Victim, make: str) -> None:
    filed = await victim.file(**{states.MAKE: press(make)})
    never_ask, found = MAKES[make]
    assert never_ask in filed[0].text
    shown = victim.texts(filed)
    assert found in shown and "Apple ID" not in shown
    if make != "Apple (iPhone)":
        assert "Apple" not in shown and "iPhone" not in shown


async def test_advice_without_a_report_follows_the_platform_chosen(victim: Victim) -> None:
    await victim.send("/advice")
    android = victim.texts(await victim.press("Android"))
    assert "the password of your Google account" in android and "“we found your phone”" in android
    assert "Apple" not in android and "iPhone" not in android
    await victim.send("/advice")
    other = victim.texts(await victim.press("Other"))
    assert "the password of your account" in other and "Google" not in other
