"""Console mode: the real bot in a terminal, driven by a script, on the configured database."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console import plain_text, read_line, render, run_console
from bot.local_api import ChatMessage
from bot.runtime import database
from bot.settings import load_settings
from tests.conftest import _admin_execute
from tests.e2e.harness import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "report.txt"
EXAMPLE_IMEI = "352099001761481"


@pytest.fixture
async def environment(tmp_path, databases):
    """Environment variables for a `python -m bot` process on a fresh, empty database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    for name in ("DATA_KEYS", "INDEX_KEY", "DATABASE_SCHEMA"):
        env.pop(name, None)
    url, schema = databases.url_and_schema()
    env["DATABASE_URL"] = url
    if schema:
        await _admin_execute(f'CREATE SCHEMA "{schema}"')
        env["DATABASE_SCHEMA"] = schema
    return env


def reportbot(
    env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` and return the finished process."""
    return run_cli(cwd, env, args, 120, stdin=stdin)


async def test_a_scripted_console_run_files_a_report_that_lookup_finds(environment, tmp_path):
    upgraded = reportbot(environment, "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr

    run = reportbot(environment, "console", stdin=EXAMPLE.read_text(), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    out = run.stdout
    assert "> /start\n" in out
    assert "[1] Yes, start my report\n[2] Only show me the safety advice" in out
    assert "<b>" not in out and "&amp;" not in out
    assert "Your report is filed." in out
    reference = re.search(r"Reference: (SPR-\w{4}-\w{2})", out).group(1)
    assert "messages deleted from this chat" in out
    assert out.endswith("> \n")

    lookup = reportbot(environment, "lookup", "35-209900-176148-1", cwd=tmp_path)
    assert lookup.returncode == 0, lookup.stderr
    assert re.match(rf"{reference}  submitted  Apple iPhone 15 Pro", lookup.stdout)


async def test_console_refuses_a_database_that_is_not_upgraded(environment, tmp_path):
    run = reportbot(environment, "console", stdin="/start\n", cwd=tmp_path)
    assert run.returncode != 0
    assert "reportbot db upgrade" in run.stderr


@pytest.fixture
async def console_settings(tmp_path, databases, monkeypatch):
    """Settings for an in-process console on a fresh, migrated database."""
    monkeypatch.chdir(tmp_path)
    url, schema = databases.url_and_schema()
    if schema:
        await _admin_execute(f'CREATE SCHEMA "{schema}"')
    settings = load_settings(data_dir=tmp_path / "data", database_url=url, database_schema=schema)
    db = database(settings)
    await db.upgrade()
    await db.dispose()
    return settings


async def console(settings, script: str, **kwargs) -> str:
    """What the console prints for SCRIPT (one line per input)."""
    out = io.StringIO()
    assert await run_console(settings, io.StringIO(script), out, **kwargs) == 0
    return out.getvalue()


async def test_buttons_are_pressed_by_number_or_label(console_settings):
    out = await console(console_settings, "/start\n1\nno, i BORROWED this phone\n5\n")
    assert "> 1\nIs this Telegram account your own?" in out
    # The account question is edited into the next one (one new message less per answer).
    assert "> no, i BORROWED this phone\n(edited) What make" in out
    assert "> 5\nDo this now" in out  # "Something else"
    assert "Which model" in out


async def test_text_locations_and_comments(console_settings):
    script = "\n".join(
        [
            "/start",
            "1",
            "1",
            "1",
            "Skip",
            "Skip",
            "I don't know it yet",
            "Skip",
            "6",
            "1",
            "# a comment is not sent",
            "location: 51.5, -0.12",
            "location: somewhere",
            "9",
            "",
            "/help",
        ]
    )
    out = await console(console_settings, script + "\n")
    assert "Add a few words about the place?" in out  # the pin was taken
    assert "(console: type a location as" in out
    assert "> # a comment is not sent\n> location: 51.5, -0.12\n" in out
    assert "/start – report a stolen phone" in out


async def test_a_person_comes_back_to_an_unfinished_report(console_settings):
    first = await console(console_settings, "/start\n1\n1\n1\niPhone 12\n", user_id=4_200_000_000)
    assert "What colour is it" in first
    again = await console(console_settings, "red\n1\nred\n", user_id=4_200_000_000)
    assert "Welcome back" in again
    assert "> 1\nWhat colour is it" in again  # continue where I left off
    assert "Do you know the phone's IMEI" in again


def test_html_becomes_plain_text():
    assert plain_text("<b>Reference</b>: <code>SPR-7KQ4-M9</code> &amp; &lt;b&gt;") == (
        "Reference: SPR-7KQ4-M9 & <b>"
    )
    assert plain_text('<a href="https://example.org">here</a>') == "here (https://example.org)"
    message = ChatMessage(
        1,
        True,
        "Pick <i>one</i>",
        {
            "inline_keyboard": [
                [{"text": "A", "callback_data": "c:1"}, {"text": "B", "url": "u"}],
                [{"text": "C", "callback_data": "c:3"}],
            ]
        },
    )
    assert render(message) == "Pick one\n[1] A  [2] B\n[3] C"


HOSTILE_INPUT = b"".join(
    [
        b"/start\n",
        "²\n".encode(),  # a digit that int() refuses, typed as a button number
        b"\xb2\n",  # the same character in Latin-1: not UTF-8
        b"\xff\xfe\x00b\x00a\x00d\x00\n",  # UTF-16 with its byte-order mark
        b"\x80\xc3( broken \xe2\x82 sequences\n",
        b"9" * 5000 + b"\n",  # more digits than int() converts
        "١\n".encode(),  # an Arabic-Indic one: a real button number
        b"x" * 200_000 + b"\n",  # one line far beyond a Telegram message
        b"\x00\x01\x1b[2J\n",
        b"location: 99999999999999999999999, -1e5\n",
        b"location: \xff, \xfe\n",
        b"\r\n",
        b"1\n",
        b"no bytes after this line, not even a newline \xf0\x9f",
    ]
)


def console_process(env: dict[str, str], stdin: bytes, *, cwd: Path):
    """Run `python -m bot console` with STDIN given as raw bytes."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize(
    "locale",
    [{"PYTHONIOENCODING": "utf-8"}, {"LC_ALL": "C"}, {"LC_ALL": "C.UTF-8"}],
    ids=["strict-utf8", "c-locale", "c-utf8"],
)
async def test_the_console_process_survives_any_bytes(environment, tmp_path, locale):
    upgraded = reportbot(environment, "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr

    run = console_process({**environment, **locale}, HOSTILE_INPUT, cwd=tmp_path)

    out = run.stdout.decode("utf-8", errors="replace")
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in run.stderr
    assert "could not be handled" not in out
    assert "(console: a message holds at most 4096 characters; cut)" in out
    # "١" pressed the first button; after all that, the conversation still answers.
    assert "> ١\nIs this Telegram account your own?" in out
    assert out.count("> ") >= 14
    assert out.endswith("> \n")


def test_a_line_without_end_is_read_in_bounded_pieces():
    endless = io.StringIO("y" * 1_000_000)
    line, cut = read_line(endless)
    assert cut and line == "y" * 4096
    assert read_line(endless) == (None, False)
