"""`reportbot run`: the bot, by long polling, or as a webhook server when WEBHOOK_URL is set."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from urllib.parse import urlsplit, urlunsplit

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot import runtime
from bot.app import build_application, default_rate_limiter
from bot.commands.common import CliError
from bot.delivery import stop_delivery
from bot.logging_setup import configure_logging
from bot.polling import POLL_TIMEOUT_SECONDS, Poller, application_processor
from bot.processing import ChatOrderedProcessor
from bot.settings import Settings
from bot.webhook import WebhookServer
from models.storage.database import Database

log = logging.getLogger("reportbot.run")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `run`."""
    run = subparsers.add_parser(
        "run", help="run the bot (long polling; a webhook server when WEBHOOK_URL is set)"
    )
    run.set_defaults(func=run_command)


async def check_connections(processor: ChatOrderedProcessor, db: Database) -> int | None:
    """Warn when this process alone could use more connections than PostgreSQL allows.

    Each chat being handled holds a connection for its turn, beside the process's own pool.
    Returns the server's limit (None on SQLite).
    """
    if processor.turns is None:
        return None
    limit = await processor.turns.server_limit()
    if limit is None:
        return None
    budget = processor.turns.size + db.max_connections
    if budget > limit:
        log.warning(
            "this worker may use up to %d PostgreSQL connections (MAX_CONCURRENT_CHATS %d + %d "
            "of its own), more than the server allows (max_connections %d): lower "
            "MAX_CONCURRENT_CHATS, or raise max_connections",
            budget,
            processor.turns.size,
            db.max_connections,
            limit,
        )
    return limit


def webhook_path(url: str) -> str:
    """The path the webhook server serves: the path of the public URL ("/" if it has none)."""
    return urlsplit(url).path or "/"


def describe_api(settings: Settings) -> str:
    """Which Bot API the bot talks to, for the log (never the token, nor a password)."""
    if not settings.telegram_api_base_url:
        return "https://api.telegram.org"
    parts = urlsplit(settings.telegram_api_base_url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Open the register, build the bot and serve until SIGTERM or SIGINT."""
    settings.require_token()  # no token: one clear line before anything starts
    configure_logging(settings.log_level, secrets=settings.secret_values())
    register = await runtime.open_register(settings)
    try:
        processor = ChatOrderedProcessor(settings.max_concurrent_chats, db=register.db)
        await check_connections(processor, register.db)
        application = build_application(
            settings,
            register,
            rate_limiter=default_rate_limiter(settings.delivery_rate_per_second),
            update_processor=processor,
            with_updater=False,
        )
        await serve(application, settings)
    except InvalidToken:
        raise CliError("the Bot API refused TELEGRAM_BOT_TOKEN: check the token") from None
    except TelegramError as exc:
        api = describe_api(settings)
        raise CliError(f"could not talk to the Bot API at {api}: {exc}") from None
    finally:
        await register.close()
    return 0


async def serve(
    application: Application, settings: Settings, stop: asyncio.Event | None = None
) -> None:
    """Run APPLICATION until STOP is set (or a stop signal arrives), then stop it cleanly.

    Stopping closes the door first (the webhook server, or the long poll), then gives the
    updates already started and the notification being sent `stop_grace_seconds` to finish;
    updates not started, or not finished by then, are handed back to Telegram.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, _on_signal, stop, number)
    try:
        async with application:
            if application.post_init:
                await application.post_init(application)
            source: Poller | WebhookServer | None = None
            try:
                await application.start()
                source = await _start_updates(application, settings)
                log.info(
                    "bot running",
                    extra={
                        "mode": "webhook" if settings.webhook_url else "polling",
                        "api": describe_api(settings),
                        "max_concurrent_chats": settings.max_concurrent_chats,
                    },
                )
                await _until_stopped(stop, source)
                log.info("stopping: no new updates; finishing the ones in flight")
                await _finish_work(application, source, settings.stop_grace_seconds)
            finally:
                # Also after a failed start: what post_init started must stop.
                if source is not None:
                    await source.stop()
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
                if application.post_stop:
                    await application.post_stop(application)
        if application.post_shutdown:
            await application.post_shutdown(application)
        log.info("bot stopped")
    finally:
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)


async def _until_stopped(stop: asyncio.Event, source: Poller | WebhookServer | None) -> None:
    """Wait for STOP; raise at once if the polling loop ends on its own (an InvalidToken)."""
    if source is None or source.task is None:
        await stop.wait()
        return
    waiting = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({waiting, source.task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    if not stop.is_set() and source.task.done():
        source.task.result()  # raises what ended it
        raise RuntimeError("polling ended unexpectedly")


async def _finish_work(
    application: Application, source: Poller | WebhookServer, grace: float
) -> None:
    """Give the work in flight GRACE seconds, together; hand back what is left then.

    Updates waiting for their turn are handed back at once (they have not started); those
    running get until the deadline, then are cancelled and not confirmed, so Telegram delivers
    them again. Notification delivery finishes the message it is sending, or is cancelled at the
    deadline (its claimed rows go back to the outbox when their claim runs out).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    processor = application.update_processor
    handed_back = processor.close() if isinstance(processor, ChatOrderedProcessor) else 0
    delivery = asyncio.ensure_future(stop_delivery(application))
    jobs = application.job_queue
    running_jobs = asyncio.ensure_future(jobs.stop(wait=True)) if jobs is not None else None
    cancelled = await source.stop(deadline)
    late = [task for task in (delivery, running_jobs) if task is not None]
    _, unfinished = await asyncio.wait(late, timeout=max(0.0, deadline - loop.time()))
    for task in unfinished:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    log.info(
        "work in flight finished",
        extra={
            "grace_s": grace,
            "handed_back": handed_back + cancelled,
            "cut_short": cancelled + len(unfinished),
        },
    )


def _on_signal(stop: asyncio.Event, number: int) -> None:
    if not stop.is_set():
        log.info("received %s", signal.Signals(number).name)
    stop.set()


async def _start_updates(application: Application, settings: Settings) -> Poller | WebhookServer:
    """Open the door for updates: our webhook server, or our long polling.

    Either way Telegram is told an update is done only once it has been processed.
    """
    process = application_processor(application)
    if settings.webhook_url:
        secret = settings.webhook_secret_value
        assert secret is not None
        server = WebhookServer(
            application.bot,
            process,
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            path=webhook_path(settings.webhook_url),
            secret=secret,
        )
        try:
            await server.start()
        except OSError as exc:
            where = f"{settings.webhook_listen}:{settings.webhook_port}"
            raise CliError(f"cannot serve the webhook on {where}: {exc.strerror or exc}") from None
        try:
            await application.bot.set_webhook(
                url=settings.webhook_url,
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
            )
        except BaseException:
            await server.stop()
            raise
        return server
    poller = Poller(
        application.bot, process, timeout=POLL_TIMEOUT_SECONDS, allowed_updates=Update.ALL_TYPES
    )
    await poller.start()
    return poller
