"""Running `reportbot ...` in the test's own process, as the CLI tests do."""

from __future__ import annotations

import asyncio

import pytest

from bot.cli import main


def exit_code(argv: list[str]) -> int:
    """`main(ARGV)`, with a SystemExit (argparse: --help, usage errors) turned into its code."""
    try:
        return main(argv)
    except SystemExit as exit_:
        if exit_.code is None:
            return 0
        return exit_.code if isinstance(exit_.code, int) else 1


async def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    """Run `reportbot ARGV...` off the event loop: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = await asyncio.to_thread(exit_code, list(argv))
    out, err = capsys.readouterr()
    return code, out, err
