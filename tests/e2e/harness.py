"""Running the real `python -m bot` as a subprocess against the fake Telegram server."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.botapi import FakeTelegram

PROJECT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawE"
WEBHOOK_SECRET = "e2e-webhook-secret_0123456789"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
# Settings the bot must not inherit from the machine running the tests.
CLEARED = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "DATABASE_URL",
    "DATABASE_SCHEMA",
    "DATA_KEYS",
    "INDEX_KEY",
    "LOG_LEVEL",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(
    workdir: Path,
    env: dict[str, str],
    args: tuple[str, ...],
    within: float,
    *,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` in WORKDIR with ENV (and STDIN) to its end, WITHIN seconds."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=workdir,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=within,
        check=False,
    )


@dataclass
class BotEnvironment:
    """Everything the bot process and the CLI need: folder, database, keys, Bot API."""

    workdir: Path
    database_url: str
    database_schema: str | None
    keys: dict[str, str]
    api_base_url: str
    webhook_port: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def webhook_url(self) -> str | None:
        """The webhook URL the bot registers (and serves), in webhook mode."""
        if self.webhook_port is None:
            return None
        return f"http://127.0.0.1:{self.webhook_port}/telegram/hook"

    def env(self) -> dict[str, str]:
        """The environment of a `python -m bot ...` process."""
        env = {name: value for name, value in os.environ.items() if name not in CLEARED}
        env.update(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": self.api_base_url,
                "DATABASE_URL": self.database_url,
                "DATA_DIR": str(self.workdir / "data"),
                "LOG_LEVEL": "INFO",
                "PYTHONPATH": str(PROJECT),
                "PYTHONUNBUFFERED": "1",
                **self.keys,
            }
        )
        if self.database_schema:
            env["DATABASE_SCHEMA"] = self.database_schema
        if self.webhook_port is not None:
            env.update(
                {
                    "WEBHOOK_URL": self.webhook_url or "",
                    "WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "WEBHOOK_LISTEN": "127.0.0.1",
                    "WEBHOOK_PORT": str(self.webhook_port),
                }
            )
        env.update(self.extra)
        return env

    def cli(self, *args: str, within: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `python -m bot ARGS` to completion (e.g. lookup, export)."""
        return run_cli(self.workdir, self.env(), args, within)

    async def acli(self, *args: str, within: float = 60) -> subprocess.CompletedProcess[str]:
        """`cli`, without blocking the event loop (the fake server must keep answering)."""
        return await asyncio.to_thread(self.cli, *args, within=within)


class BotProcess:
    """One `python -m bot run` process; its output goes to a log file."""

    def __init__(
        self,
        environment: BotEnvironment,
        server: FakeTelegram,
        log: Path,
        *,
        env: dict[str, str] | None = None,
    ) -> None:
        """Prepare to run the bot of ENVIRONMENT (and ENV) against SERVER, output to LOG."""
        self.environment = environment
        self.server = server
        self.log = log
        self.env = env or {}
        self.process: asyncio.subprocess.Process | None = None
        self._watcher: asyncio.Task | None = None
        self.starts = 0
        self.up = False

    @property
    def webhook(self) -> bool:
        """Whether the bot runs in webhook mode."""
        return bool(self._env().get("WEBHOOK_URL"))

    def _env(self) -> dict[str, str]:
        return {**self.environment.env(), **self.env}

    async def start(self) -> None:
        """Start the bot and wait until it is ready to receive updates."""
        assert self.process is None or self.process.returncode is not None
        first_call = len(self.server.calls)
        self.server.generation += 1
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=self.environment.workdir,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self.starts += 1
        self._watcher = asyncio.get_running_loop().create_task(self._watch(self.process))
        method = "setWebhook" if self.webhook else "getUpdates"
        await self.server.wait_until(
            lambda: self.server.calls_of(method, first_call) or self._exited(),
            START_TIMEOUT,
            f"the bot's first {method}",
        )
        if self._exited():
            raise AssertionError(f"the bot exited at start:\n{self.output()}")
        self.up = True
        self.server.notify()

    async def _watch(self, process: asyncio.subprocess.Process) -> None:
        await process.wait()
        self.server.notify()

    def _exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    async def stop(self, number: int = signal.SIGTERM) -> int:
        """Send signal NUMBER and wait for the process to end; returns its exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(number)
        try:
            return await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        finally:
            self.up = False
            self.server.notify()

    async def kill(self) -> None:
        """SIGKILL: the process dies wherever it is."""
        await self.stop(signal.SIGKILL)

    def output(self) -> str:
        """Everything the bot process wrote so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""
