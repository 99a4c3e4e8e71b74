"""The error handler: the user gets a short apology, the log gets the traceback."""

import logging

from telegram.ext import CommandHandler


async def test_a_failing_handler_apologises_without_details(application, make_user, caplog):
    async def broken(update, context):
        raise RuntimeError("secret internals 07400123456")

    application.add_handler(CommandHandler("boom", broken), group=-5)
    user = make_user()
    with caplog.at_level(logging.ERROR, logger="reportbot.errors"):
        replies = await user.send("/boom")
    assert len(replies) == 1
    assert "Sorry, something went wrong" in replies[0].text
    assert "secret internals" not in replies[0].text
    assert any(record.exc_info for record in caplog.records)
