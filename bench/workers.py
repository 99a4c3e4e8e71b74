"""Several workers: updates a second with 1 and with 3 `reportbot run` workers behind nginx.

python -m bench.workers [--quick] [--victims N] [--database-url URL]

The same parts as the end-to-end test tests/e2e/test_workers.py: nginx from the machine's
packages configured from deploy/nginx/reportbot.conf, `reportbot run` workers in webhook mode on
one PostgreSQL database (a private schema each run), and a fake Telegram that delivers webhook
calls to nginx as Telegram does (up to 40 at once, each chat's in order). Scripted victims file
complete reports (--quick: they stop at the first question about the phone). The baseline is the
same run with one worker behind the same nginx. Each worker may send 28 new messages a second (the
default): Telegram's real limit for one bot, about 30 in all, would cap any number of workers at
about 25 updates a second, so this measures what the workers can do, not what Telegram allows.

Needs PostgreSQL (--database-url, or TEST_DATABASE_URL) and nginx; without them it prints a line
that says so and measures nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as `python bench/workers.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._backends import PostgresBackend
from bench.common import Result, emit, latency_ms, log, parser, ratio
from handlers.conversation import states
from models.sealing.vault import KeyRing
from tests.e2e.balancer import Balancer, Cluster, nginx_binary
from tests.e2e.driver import WebhookTelegram
from tests.e2e.harness import TOKEN, BotEnvironment, BotProcess, free_port
from tests.e2e.script import crowd

PATH = "/telegram/hook"
PLAY_SECONDS = 600.0
MAX_CHATS = 16  # per worker: 16 turn connections + 10 of its own


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of this benchmark."""
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--victims", type=int, help="victims filing at once (60; quick: 4)")
    return arguments.parse_args(argv)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_workers(
    count: int, victims: int, url: str, scratch: Path, *, quick: bool
) -> dict[str, float]:
    """COUNT workers behind nginx serve VICTIMS filing at once; their figures."""
    backend = PostgresBackend(url)
    await backend.prepare()
    telegram = WebhookTelegram(TOKEN)
    await telegram.start()
    folder = scratch / f"{count}-workers"
    workdir = folder / "bot"
    workdir.mkdir(parents=True)
    environment = BotEnvironment(
        workdir=workdir,
        database_url=url,
        database_schema=backend.schema,
        keys=KeyRing.generate().to_env(),
        api_base_url=telegram.base_url,
    )
    ports = [free_port() for _ in range(count)]
    balancer = Balancer(
        folder / "nginx", port=free_port(), workers=[f"127.0.0.1:{p}" for p in ports], path=PATH
    )
    workers = [
        BotProcess(
            environment,
            telegram,
            folder / f"worker-{n}.log",
            env=balancer.worker_env(port, MAX_CHATS),
        )
        for n, port in enumerate(ports)
    ]
    try:
        await balancer.start()
        first = len(telegram.calls)
        await asyncio.gather(*(worker.start() for worker in workers))
        await telegram.wait_until(
            lambda: len(telegram.calls_of("setWebhook", first)) >= count, 120, "the workers"
        )
        cpu_before = sum(cpu_seconds(w.process.pid) for w in workers if w.process)
        own_before = time.process_time()
        stop_at = states.MAKE if quick else None
        people = crowd(
            telegram, victims, first_imei=count * 10_000, first_user=990_000, stop_at=stop_at
        )
        log(f"{count} worker(s): {victims} victims ...")
        cluster = Cluster(workers)
        await asyncio.gather(*(person.play(cluster, within=PLAY_SECONDS) for person in people))
        await telegram.wait_until(lambda: not telegram.pending, 60, "the last answers")
        cpu = sum(cpu_seconds(w.process.pid) for w in workers if w.process) - cpu_before
        own = time.process_time() - own_before
        calls = telegram.webhook_calls
        answered = [call for call in calls if call.status == 200]
        updates = len({call.update_id for call in answered})
        window = max(call.ended for call in answered) - min(call.started for call in calls)
        filed = sum(person.reference is not None for person in people)
        done = sum(
            person.reference is not None or person.stopped_at == states.MAKE for person in people
        )
        figures = {
            "updates": updates,
            "updates_per_s": updates / window,
            "seconds": window,
            "workers_cpu_ms_per_update": cpu * 1000 / updates,
            # Telegram's side and the victims (this process): if near 1 core, it is the limit.
            "telegram_side_cpu_share": own / window,
            "unanswered_updates": len(set(telegram.history) - {c.update_id for c in answered}),
            "filed": filed,
            "victims_done": done,
            **latency_ms([call.ended - call.started for call in answered], "answer"),
        }
        log(f"{count} worker(s): {figures['updates_per_s']:.1f} updates/s, {filed} filed")
        for worker in workers:
            code = await worker.stop()
            if code != 0:
                raise RuntimeError(f"a worker exited with {code}:\n{worker.output()[-2000:]}")
        return figures
    except BaseException:
        for worker in workers:
            sys.stderr.write(worker.output()[-2000:])
        sys.stderr.write(balancer.log()[-2000:])
        raise
    finally:
        for worker in workers:
            if worker.process is not None and worker.process.returncode is None:
                await worker.kill()
        await balancer.stop()
        await telegram.stop()
        await backend.close()


async def measure(args: argparse.Namespace, url: str) -> Result:
    """One worker (the baseline), then three, on the same machine in the same run."""
    victims = args.victims or (4 if args.quick else 60)
    result = Result("workers", sizes={"victims": victims, "quick": args.quick, "workers": 3})
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as scratch:
        started = time.perf_counter()
        one = await run_workers(1, victims, url, Path(scratch), quick=args.quick)
        three = await run_workers(3, victims, url, Path(scratch), quick=args.quick)
        log(f"both runs: {time.perf_counter() - started:.0f} s")
    for key, value in three.items():
        result.figures[key] = value
        result.baseline[f"one_worker_{key}"] = one[key]
    result.ratio["updates_per_s_3_over_1"] = ratio(three["updates_per_s"], one["updates_per_s"])
    result.ratio["answer_p50_3_over_1"] = ratio(three["answer_p50_ms"], one["answer_p50_ms"])
    result.below("unanswered_updates", three["unanswered_updates"], 1, "updates")
    # Quick runs stop at the first question about the phone: done is filed, or got there.
    result.below("victims_not_done", victims - three["victims_done"], 1, "victims")
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    args = arguments(argv)
    url = args.database_url or os.environ.get("TEST_DATABASE_URL")
    needs = (("PostgreSQL", url), ("nginx", nginx_binary()))
    missing = [what for what, there in needs if not there]
    if missing or url is None:
        log(f"workers: needs {' and '.join(missing)}; nothing measured")
        result = Result("workers", sizes={"skipped": f"needs {' and '.join(missing)}"})
        return emit(result, quick=args.quick)
    return emit(asyncio.run(measure(args, url)), quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
