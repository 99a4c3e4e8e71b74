"""The error handler: the user gets a short apology, the log gets the traceback."""

import logging
import sqlite3

from sqlalchemy.exc import OperationalError
from telegram.ext import CommandHandler

from handlers.conversation import states


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


async def test_the_apology_says_what_is_true_when_an_answer_could_not_be_saved(
    victim, register, monkeypatch
):
    """Each answer is written when given: a failed write loses that answer and no other."""
    await victim.walk(states.COLOUR)
    before = await victim.answers()

    async def locked(*args, **kwargs):
        raise OperationalError("UPDATE drafts", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(register.drafts, "save", locked)
    replies = await victim.send("red")

    assert len(replies) == 1
    assert replies[0].text.startswith(
        "Sorry, something went wrong on our side. Your earlier answers are kept, but your last "
        "message may not have been saved.\nPlease send it again, or /help."
    )
    assert await victim.answers() == before  # the earlier answers, and not this one
    assert await victim.step() == states.COLOUR

    monkeypatch.undo()
    await victim.send("red")  # sent again, as the apology asks
    assert (await victim.answers())["colour"] == "red"
    assert await victim.step() != states.COLOUR
