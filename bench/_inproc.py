"""The bot in this process, for benchmarks: a scratch register, isolated settings, the Application.

The Application is `bot.app.build_application` — the one `reportbot run` builds — given a
request class (an in-process Bot API), a rate limiter and an update processor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from telegram.ext import Application, BaseRateLimiter, BaseUpdateProcessor
from telegram.request import BaseRequest

from bench._backends import PostgresBackend, SqliteBackend
from bench.common import log
from bot.app import CONSOLE_TOKEN, build_application
from bot.settings import Settings
from models.register import Register
from models.sealing.vault import KeyRing, Vault


def isolated_settings(data_dir: Path) -> Settings:
    """Settings for an offline bot: nothing read from `.env` or inherited from the environment."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        telegram_bot_token=None,
        telegram_api_base_url=None,
        database_url=None,
        database_schema=None,
        webhook_url=None,
        webhook_secret=None,
        data_keys=None,
        index_key=None,
        log_level="WARNING",
    )


@asynccontextmanager
async def scratch_register(folder: Path, database_url: str | None) -> AsyncIterator[Register]:
    """A migrated, empty register with fresh keys: a SQLite file in FOLDER, or a PG schema."""
    backend: SqliteBackend | PostgresBackend
    if database_url:
        backend = PostgresBackend(database_url)
    else:
        backend = SqliteBackend(folder / "register.db")  # Database creates the folder
    await backend.prepare()
    try:
        yield Register(backend.db, Vault(KeyRing.generate()))
    finally:
        await backend.close()


def build_bot(
    register: Register,
    request: BaseRequest,
    data_dir: Path,
    *,
    rate_limiter: BaseRateLimiter | None,
    update_processor: BaseUpdateProcessor | None,
) -> Application:
    """The bot's real Application (every handler), talking to REQUEST, with no updater."""
    return build_application(
        isolated_settings(data_dir),
        register,
        request=request,
        token=CONSOLE_TOKEN,
        rate_limiter=rate_limiter,
        update_processor=update_processor,
        with_updater=False,
    )


@dataclass
class CpuClock:
    """Process CPU time (every thread: the event loop and the database driver's threads)."""

    started: float = 0.0
    seconds: float = 0.0

    def __enter__(self) -> CpuClock:
        """Start counting."""
        self.started = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop counting."""
        self.seconds = time.process_time() - self.started


@contextmanager
def thread_cpu(into: list[float]) -> Iterator[None]:
    """Add this thread's CPU time spent in the block to INTO[0] (for code that never awaits)."""
    started = time.thread_time()
    try:
        yield
    finally:
        into[0] += time.thread_time() - started


async def wait_for(condition: object, patience: float, what: str, step: float = 0.05) -> bool:
    """Poll CONDITION() every STEP seconds until true (True) or PATIENCE passes (False, logged)."""
    deadline = time.perf_counter() + patience
    while not condition():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            log(f"gave up waiting for {what} after {patience:.0f} s")
            return False
        await asyncio.sleep(step)
    return True


class LogCount(logging.Handler):
    """While in use, counts what is logged at WARNING and above instead of printing it."""

    def __init__(self) -> None:
        """Start with nothing counted."""
        super().__init__(logging.WARNING)
        self.counts: dict[str, int] = {}
        self.examples: dict[str, str] = {}

    def __enter__(self) -> LogCount:
        """Take over the root logger's output (python-telegram-bot logs every 429 it raises)."""
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        """Give the root logger back."""
        logging.getLogger().removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        """Count RECORD by logger and level; keep the first message of each."""
        key = f"{record.name}:{record.levelname}"
        self.counts[key] = self.counts.get(key, 0) + 1
        self.examples.setdefault(key, record.getMessage()[:160])

    def figures(self, prefix: str) -> dict[str, int]:
        """The counts as figures (and each kind, with an example, on stderr)."""
        for key, message in self.examples.items():
            log(f"{prefix}: logged {self.counts[key]}x {key}: {message}")
        return {f"log.{key}": count for key, count in self.counts.items()}
