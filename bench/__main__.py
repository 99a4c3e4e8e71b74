"""`python -m bench`: run every benchmark (or those named), one process each, one JSON line each.

A benchmark is any `bench/NAME.py` except helpers (`common.py` and names starting with `_`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

if not __package__:  # run as `python bench/__main__.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import EXIT_TARGET_MISSED, PROJECT_ROOT, log, validate

BENCH_DIR = Path(__file__).resolve().parent
HELPERS = frozenset({"common"})


def discover() -> list[str]:
    """The names of every benchmark script, alphabetically."""
    return sorted(
        path.stem
        for path in BENCH_DIR.glob("*.py")
        if not path.stem.startswith("_") and path.stem not in HELPERS
    )


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The runner's command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run the benchmarks; each prints one JSON line."
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (what CI runs)")
    parser.add_argument("--database-url", help="PostgreSQL server, passed to every benchmark")
    return parser.parse_args(argv)


def run_one(name: str, forward: list[str]) -> int:
    """Run one benchmark, check and pass on its JSON line; its exit code (1 if malformed)."""
    command = [sys.executable, "-m", f"bench.{name}", *forward]
    log(f"== {name}: {' '.join(command[1:])}")
    started = time.perf_counter()
    # stderr (progress) goes straight through; stdout must be exactly one JSON line.
    process = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    lines = [line for line in process.stdout.splitlines() if line.strip()]
    seconds = time.perf_counter() - started
    if len(lines) != 1:
        log(f"== {name}: FAILED (exit {process.returncode}, {len(lines)} lines on stdout)")
        sys.stderr.write(process.stdout)
        return process.returncode or 1
    try:
        data = validate(lines[0])
    except ValueError as error:
        log(f"== {name}: FAILED, malformed JSON line: {error}")
        return 1
    print(lines[0], flush=True)
    targets = data["targets"].values()
    met = sum(target["met"] for target in targets)
    code = process.returncode
    log(f"== {name}: exit {code} in {seconds:.1f} s, targets met {met}/{len(targets)}")
    return process.returncode


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; 0 if all ran (and, in full runs, met their targets)."""
    args = arguments(argv)
    available = discover()
    if args.list:
        print("\n".join(available))
        return 0
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        log(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    forward = ["--quick"] if args.quick else []
    if args.database_url:
        forward += ["--database-url", args.database_url]
    codes = [run_one(name, forward) for name in args.names or available]
    if any(code not in (0, EXIT_TARGET_MISSED) for code in codes):
        return 1
    return EXIT_TARGET_MISSED if EXIT_TARGET_MISSED in codes else 0


if __name__ == "__main__":
    sys.exit(main())
