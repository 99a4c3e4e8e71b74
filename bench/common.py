"""Shared helpers: timing, percentiles, peak memory, the machine, and the one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import sqlite3
import sys
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REQUIRED_KEYS = ("name", "sizes", "figures", "baseline", "ratio", "targets", "machine")
# A full run whose JSON line shows a missed target exits with this (never in --quick).
EXIT_TARGET_MISSED = 3
_STARTED = time.perf_counter()


class Timer:
    """Wall time of a block: ``with Timer() as t: ...`` then ``t.seconds``."""

    def __init__(self) -> None:
        """Start unset; the clock starts on entering the block."""
        self.start = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Timer:
        """Start the clock."""
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the clock."""
        self.seconds = time.perf_counter() - self.start


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) of VALUES, interpolating between the closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_ms(samples: Sequence[float], prefix: str) -> dict[str, float]:
    """p50, p99 and max of SAMPLES (seconds) in milliseconds, keyed PREFIX_p50_ms etc."""
    return {
        f"{prefix}_p50_ms": percentile(samples, 50) * 1000,
        f"{prefix}_p99_ms": percentile(samples, 99) * 1000,
        f"{prefix}_max_ms": max(samples, default=math.nan) * 1000,
    }


def median(values: Iterable[float]) -> float:
    """The median of VALUES (nan when empty)."""
    return percentile(list(values), 50)


def proc_status_kb(field_name: str, pid: int | str = "self") -> int | None:
    """A memory field (VmHWM, VmRSS, ...) of /proc/PID/status in kB, None if unavailable."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    return None


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) of PID, or of this process, in MiB."""
    kb = proc_status_kb("VmHWM", pid if pid is not None else "self")
    if kb is None and pid is None:
        # ru_maxrss is in kB on Linux, in bytes on macOS.
        scale = 1 if sys.platform.startswith("linux") else 1 / 1024
        kb = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale)
    return (kb or 0) / 1024


def machine() -> dict[str, Any]:
    """What the figures were measured on (load shows how busy the machine was)."""
    memory_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "memory_mb": memory_kb // 1024 if memory_kb else None,
        "load_1min": round(os.getloadavg()[0], 2),
    }


def log(message: str) -> None:
    """A progress line on stderr (stdout carries only the JSON line)."""
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def ratio(value: float, base: float) -> float | None:
    """VALUE / BASE, or None when the baseline is zero or missing."""
    if not base or math.isnan(base) or math.isnan(value):
        return None
    return value / base


@dataclass
class Result:
    """One benchmark's figures, baselines, ratios and targets: printed as one JSON line."""

    name: str
    sizes: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    ratio: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def below(self, key: str, value: float, limit: float, unit: str) -> None:
        """Record the target that figure KEY (VALUE) stays under LIMIT."""
        self.targets[key] = {
            "target": f"< {limit:g} {unit}",
            "value": value,
            "met": bool(value < limit),
        }

    @property
    def missed(self) -> list[str]:
        """Names of the targets not met."""
        return [key for key, target in self.targets.items() if not target["met"]]

    def as_dict(self) -> dict[str, Any]:
        """The JSON object, figures rounded to what the noise allows."""
        return {
            "name": self.name,
            "sizes": self.sizes,
            "figures": _tidy(self.figures),
            "baseline": _tidy(self.baseline),
            "ratio": _tidy(self.ratio),
            "targets": _tidy(self.targets),
            "machine": machine(),
        }


def _tidy(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {key: _tidy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_tidy(item) for item in value]
    return value


def emit(result: Result, *, quick: bool) -> int:
    """Print RESULT as the one JSON line; the exit code (missed targets fail full runs only)."""
    print(json.dumps(result.as_dict(), separators=(",", ":")), flush=True)
    for key in result.missed:
        target = result.targets[key]
        log(f"target missed: {key} = {target['value']:.4g}, wanted {target['target']}")
    if result.missed and not quick:
        return EXIT_TARGET_MISSED
    return 0


def benchmark_main(
    run: Callable[[argparse.Namespace], Coroutine[Any, Any, Result]],
    arguments: Callable[[list[str] | None], argparse.Namespace],
) -> Callable[[list[str] | None], int]:
    """A benchmark's `main(argv)`: parse ARGV, RUN, add peak memory, print the JSON line."""

    def main(argv: list[str] | None = None) -> int:
        """Run the benchmark and print its JSON line."""
        args = arguments(argv)
        result = asyncio.run(run(args))
        result.figures.setdefault("peak_rss_mb", peak_rss_mb())
        return emit(result, quick=args.quick)

    return main


def validate(line: str) -> dict[str, Any]:
    """Parse one benchmark's JSON line; raise ValueError if it lacks a required part."""
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise ValueError(f"missing keys: {', '.join(missing)}")
    for key in REQUIRED_KEYS[1:]:
        if not isinstance(data[key], dict):
            raise ValueError(f"{key} is not an object")
    for key, target in data["targets"].items():
        if not isinstance(target, dict) or not isinstance(target.get("met"), bool):
            raise ValueError(f"target {key} has no boolean 'met'")
        if "target" not in target:
            raise ValueError(f"target {key} has no 'target'")
    return data


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    arguments = argparse.ArgumentParser(description=description)
    arguments.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes: checks the script end to end in seconds (never fails on targets)",
    )
    arguments.add_argument(
        "--database-url",
        help="also (or instead, see the script) run on this PostgreSQL server, "
        "e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    )
    return arguments


@contextmanager
def stage(what: str) -> Iterator[Timer]:
    """Log the start and the duration of a stage of a benchmark."""
    log(f"{what} ...")
    with Timer() as timer:
        yield timer
    log(f"{what}: {timer.seconds:.2f} s")
