"""The last handler: commands that no handler of any group takes get the shared answer."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters


class UnknownCommand(filters.UpdateFilter):
    """A command message that no CommandHandler of the application would take."""

    def __init__(self, application: Application) -> None:
        """Look commands up in APPLICATION's handlers at the time of each update."""
        super().__init__(name="UnknownCommand")
        self.application = application

    def filter(self, update: Update) -> bool:
        """True when the update is a command and nobody else knows it."""
        if not filters.COMMAND.check_update(update):
            return False
        for handlers in self.application.handlers.values():
            for handler in handlers:
                if isinstance(handler, CommandHandler) and handler.check_update(update):
                    return False
        return True
