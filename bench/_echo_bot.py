"""The floor: a bare python-telegram-bot echo bot, started the way `reportbot run` is.

python -m bench._echo_bot  (reads TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL)
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    if update.effective_message and update.effective_message.text:
        await update.effective_message.reply_text(update.effective_message.text)


def main() -> None:
    """Poll until interrupted."""
    builder = Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"])
    base = os.environ.get("TELEGRAM_API_BASE_URL")
    if base:
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_polling()


if __name__ == "__main__":
    main()
