"""The real `reportbot web` process, its command line, and a real Chromium driven by Playwright.

The console runs as its own process on a free port, on a migrated database of its own, with the
same keys as the test (which seeds reports through the register in-process). Staff are added and
sign-in links made with the real CLI (`reportbot staff add`, `reportbot staff login-link`), and a
page signs in by opening the link and pressing its button, as a person does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import CLEARED, PROJECT, free_port, run_cli

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
SCREENSHOTS = PROJECT / "docs" / "screenshots"
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    """Debian's Chromium, if installed (CHROMIUM_PATH overrides)."""
    given = os.environ.get("CHROMIUM_PATH")
    if given:
        return given
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_required() -> bool:
    """Whether a missing browser is a failure (in CI) rather than a reason to skip."""
    return bool(os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER"))


def chromium_or_skip() -> str:
    """The browser to drive; skips the test where none is installed, fails in CI."""
    path = chromium_path()
    if path is None:
        if browser_required():
            pytest.fail("no Chromium installed, and CI (or REQUIRE_BROWSER) requires one")
        pytest.skip("no Chromium installed (Debian: apt-get install chromium)")
    return path


@dataclass
class ConsoleEnvironment:
    """Folder, database and keys that the console process and the CLI share."""

    workdir: Path
    database_url: str
    database_schema: str | None
    keys: dict[str, str]
    port: int = field(default_factory=free_port)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """Where staff reach the console."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment of `python -m bot ...` (nothing inherited that would change it)."""
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in CLEARED and not name.startswith("WEB_")
        }
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "DATA_DIR": str(self.workdir / "data"),
                "WEB_BASE_URL": self.base_url,
                "LOG_LEVEL": "INFO",
                "PYTHONPATH": str(PROJECT),
                "PYTHONUNBUFFERED": "1",
                **self.keys,
                **self.extra,
            }
        )
        if self.database_schema:
            env["DATABASE_SCHEMA"] = self.database_schema
        return env

    async def cli(self, *args: str, within: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `python -m bot ARGS` to completion, without blocking the event loop."""
        return await asyncio.to_thread(run_cli, self.workdir, self.env(), args, within)

    async def add_staff(self, user_id: int, role: str) -> None:
        """`reportbot staff add USER_ID --role ROLE`."""
        done = await self.cli("staff", "add", str(user_id), "--role", role)
        assert done.returncode == 0, done.stderr

    async def login_link(self, user_id: int) -> str:
        """`reportbot staff login-link USER_ID`: the one-time URL it prints."""
        done = await self.cli("staff", "login-link", str(user_id))
        assert done.returncode == 0, done.stderr
        (url,) = [line for line in done.stdout.split() if line.startswith(self.base_url)]
        return url


class ConsoleProcess:
    """One `python -m bot web` process; its output goes to a log file."""

    def __init__(self, environment: ConsoleEnvironment, log: Path) -> None:
        """Prepare to serve ENVIRONMENT's console, output to LOG."""
        self.environment = environment
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the console and return once it answers HTTP."""
        env = self.environment
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "web",
                "--host",
                "127.0.0.1",
                "--port",
                str(env.port),
                cwd=env.workdir,
                env=env.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        await self._until_answering()

    async def _until_answering(self) -> None:
        """Poll until the port answers (or the process dies, or START_TIMEOUT passes)."""
        assert self.process is not None
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.environment.base_url) as client:
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"the console exited at start:\n{self.output()}")
                try:
                    await client.get("/static/console.css", timeout=2)
                    return
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"the console did not answer:\n{self.output()}")
                # Waiting for a process to bind its port: nothing to wait on but the port itself.
                await asyncio.sleep(0.1)

    async def stop(self) -> int | None:
        """SIGTERM, and wait for the process to end."""
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()
        try:
            return await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()

    def output(self) -> str:
        """Everything the console wrote so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


async def screenshot(page, name: str) -> Path:
    """Keep a picture of PAGE as docs/screenshots/NAME.png (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(target), full_page=True)
    return target


async def follow(page, target) -> None:
    """Click TARGET (a link or a form's button) and wait until the page it leads to has loaded.

    A read straight after a bare click may still read the page before it (a count does not wait).
    """
    async with page.expect_navigation():
        await target.click()


async def open_page(page, name: str) -> None:
    """Follow the main menu's link NAME, as a person does."""
    await follow(page, page.get_by_role("navigation", name="Main").get_by_role("link", name=name))
