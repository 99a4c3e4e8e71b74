"""Over HTTP: CPU per update of the real `reportbot run` process beside a bare echo bot process.

python -m bench.over_http [--quick] [--victims N] [--database-url URL]

Both bots run as real processes that poll one fake Telegram over HTTP (`tests/botapi.py`,
the same fake Bot API the end-to-end tests use; no limits and no latency), driven by the same
driver in this process: scripted victims (`tests/e2e/script.py`) file full reports through
`reportbot run`, then as many echo users each send as many texts as a report takes to the bare
python-telegram-bot echo bot (`bench/_echo_bot.py`), one at a time, each once the previous one
was answered. The figure is each process's CPU time (`/proc/PID/stat`, user + system, all its
threads) from the first update to the last answer, divided by the updates it handled: what one
update costs the process, HTTP and JSON included, start-up excluded. Target: the bot at most 3x
the echo bot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as `python bench/over_http.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._backends import PostgresBackend
from bench._targets import at_most
from bench.common import PROJECT_ROOT, Result, emit, log, parser, ratio
from handlers.conversation import states
from models.sealing.vault import KeyRing
from tests.botapi import FakeTelegram
from tests.e2e.harness import TOKEN, BotEnvironment, BotProcess
from tests.e2e.script import crowd
from tests.e2e.victim import Victim

CPU_TARGET = 3.0
ECHO_TEXTS = 20  # about as many updates as one full report takes
PLAY_SECONDS = 600.0


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of this benchmark."""
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--victims", type=int, help="victims filing at once (40; quick: 3)")
    return arguments.parse_args(argv)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bot_run(victims: int, scratch: Path, url: str | None, *, quick: bool) -> dict:
    """`reportbot run` serving VICTIMS filing at once; its figures."""
    telegram = FakeTelegram(TOKEN)
    await telegram.start()
    backend = PostgresBackend(url) if url else None
    if backend is not None:
        await backend.prepare()
    workdir = scratch / "bot"
    workdir.mkdir(parents=True)
    environment = BotEnvironment(
        workdir=workdir,
        database_url=url or f"sqlite+aiosqlite:///{workdir / 'register.db'}",
        database_schema=backend.schema if backend is not None else None,
        keys=KeyRing.generate().to_env(),
        api_base_url=telegram.base_url,  # LOG_LEVEL INFO: `reportbot run`'s default
    )
    bot = BotProcess(environment, telegram, scratch / "bot.log")
    try:
        if backend is None:
            upgraded = await environment.acli("db", "upgrade", within=120)
            if upgraded.returncode != 0:
                raise RuntimeError(f"db upgrade failed: {upgraded.stderr[-2000:]}")
        await bot.start()
        assert bot.process is not None
        stop_at = states.MAKE if quick else None
        people = crowd(telegram, victims, first_imei=50_000, first_user=880_000, stop_at=stop_at)
        log(f"bot: {victims} victims ...")
        cpu_before, started = cpu_seconds(bot.process.pid), time.perf_counter()
        await asyncio.gather(*(person.play(bot, within=PLAY_SECONDS) for person in people))
        await telegram.wait_until(lambda: not telegram.pending, 60, "the last answers")
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(bot.process.pid) - cpu_before
        code = await bot.stop()
        if code != 0:
            raise RuntimeError(f"the bot exited with {code}:\n{bot.output()[-2000:]}")
    except BaseException:
        sys.stderr.write(bot.output()[-3000:])
        raise
    finally:
        await telegram.stop()
        if backend is not None:
            await backend.close()
    updates = len(telegram.history)
    filed = sum(person.reference is not None for person in people)
    return figures_of(updates, seconds, cpu) | {"filed": filed, "victims": victims}


async def echo_run(users: int, texts: int, scratch: Path) -> dict:
    """The bare echo bot answering USERS who each send TEXTS texts; its figures."""
    telegram = FakeTelegram(TOKEN)
    await telegram.start()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log_path = scratch / "echo.log"
    with log_path.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench._echo_bot",
            cwd=PROJECT_ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )
    try:
        await telegram.wait_until(
            lambda: telegram.calls_of("getUpdates") or process.returncode is not None,
            60,
            "the echo bot's first getUpdates",
        )
        people = [Victim(telegram, user_id=770_000 + n) for n in range(users)]
        log(f"echo: {users} users x {texts} texts ...")
        cpu_before, started = cpu_seconds(process.pid), time.perf_counter()

        async def chat(person: Victim) -> None:
            for number in range(texts):
                await person.send(f"message {number} from {person.chat_id}")

        await asyncio.gather(*(chat(person) for person in people))
        await telegram.wait_until(lambda: not telegram.pending, 60, "the last answers")
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(process.pid) - cpu_before
    except BaseException:
        sys.stderr.write(log_path.read_text(errors="replace")[-3000:])
        raise
    finally:
        if process.returncode is None:
            process.send_signal(2)
            await asyncio.wait_for(process.wait(), 30)
        await telegram.stop()
    return figures_of(len(telegram.history), seconds, cpu)


def figures_of(updates: int, seconds: float, cpu: float) -> dict:
    """Rate and CPU per update of one run."""
    return {
        "updates": updates,
        "seconds": seconds,
        "updates_per_s": updates / seconds if seconds else float("nan"),
        "cpu_s": cpu,
        "cpu_per_update_ms": cpu * 1000 / updates if updates else float("nan"),
    }


async def measure(args: argparse.Namespace) -> Result:
    """Both runs, one after the other, each on a fresh fake Telegram."""
    victims = args.victims or (3 if args.quick else 40)
    texts = 3 if args.quick else ECHO_TEXTS
    result = Result(
        "over_http",
        sizes={
            "victims": victims,
            "echo_users": victims,
            "echo_texts_per_user": texts,
            "backend": "postgresql" if args.database_url else "sqlite",
            "quick": args.quick,
        },
    )
    with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
        scratch = Path(folder)
        bot = await bot_run(victims, scratch, args.database_url, quick=args.quick)
        echo = await echo_run(victims, texts, scratch)
    for key, value in bot.items():
        result.figures[f"bot.{key}"] = value
    for key, value in echo.items():
        result.baseline[f"echo.{key}"] = value
    cpu = ratio(bot["cpu_per_update_ms"], echo["cpu_per_update_ms"])
    result.ratio["bot_to_echo.cpu_per_update"] = cpu
    at_most(result, "bot_to_echo.cpu_per_update", cpu or float("nan"), CPU_TARGET, "x")
    log(
        f"bot {bot['cpu_per_update_ms']:.2f} ms/update ({bot['updates']} updates, "
        f"{bot['filed']} filed), echo {echo['cpu_per_update_ms']:.2f} ms/update: {cpu:.1f}x"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    args = arguments(argv)
    return emit(asyncio.run(measure(args)), quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
