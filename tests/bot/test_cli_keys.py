"""`reportbot keys rotate` / `keys status`, and the start-up check that refuses missing keys."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings
from models.register import Register
from models.sealing.vault import KeyRing, Vault
from models.storage.database import Database
from models.values.statuses import Status
from tests.bot.cli_runner import run
from tests.conftest import DatabaseFactory
from tests.e2e.harness import run_cli
from tests.factories import database_environment, imei, new_report

OLD = KeyRing.generate("k1")
NEW = OLD.rotated("k2")
ONLY_NEW = KeyRing(keys=NEW.keys[:1], index_key=OLD.index_key)
IMEI = imei(77)
ROOT = Path(__file__).resolve().parents[2]
VARIABLES = {name.upper() for name in Settings.model_fields}


pytestmark = pytest.mark.usefixtures("clean_environment")


@pytest.fixture
async def register(databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch) -> Register:
    """A register with reports, notes and a draft sealed under k1; the CLI pointed at it."""
    database: Database = await databases.create()
    for name, value in database_environment(database).items():
        monkeypatch.setenv(name, value)
    register = Register(database, Vault(OLD))
    for number in range(3):
        filed = await register.reports.file(
            new_report(imeis=(IMEI,) if number == 0 else (imei(),)), uuid.uuid4().hex
        )
        await register.reports.change_status(
            filed.reference, Status.UNDER_REVIEW, actor="o", note="noted"
        )
    return register


def use_keys(monkeypatch: pytest.MonkeyPatch, ring: KeyRing) -> None:
    """Give the command line RING as DATA_KEYS and INDEX_KEY."""
    for name, value in ring.to_env().items():
        monkeypatch.setenv(name, value)


async def test_the_documented_rotation_procedure(register, monkeypatch, capsys):
    # 1. The new key goes first in DATA_KEYS; everything still opens.
    use_keys(monkeypatch, NEW)
    code, out, err = await run(capsys, "keys", "status")
    assert code == 0, err
    assert "DATA_KEYS: k2, k1 (new values are sealed with 'k2')" in out
    assert "report         k1: 3" in out
    assert "not yet rotated: 'k1'" in out

    # Dropping k1 now would leave reports unreadable: every command refuses, in one line.
    use_keys(monkeypatch, ONLY_NEW)
    for command in (["lookup", IMEI.digits], ["keys", "status"], ["staff", "list"]):
        code, out, err = await run(capsys, *command)
        assert code == 1, command
        [line] = err.splitlines()
        assert "DATA_KEYS lacks key that sealed data still needs: 'k1'" in line
        assert "reportbot keys rotate" in line

    # 2. Rotate (with the old key still there), 3. verify.
    use_keys(monkeypatch, NEW)
    code, out, err = await run(capsys, "keys", "rotate", "--batch-size", "2")
    assert code == 0, err
    assert "report         re-sealed 3  already current 0  unreadable 0" in out
    assert "status_change  re-sealed 3  already current 0  unreadable 0" in out
    assert "draft          re-sealed 0  already current 0  unreadable 0" in out
    assert "keys other than 'k2' may now be removed" in out
    code, out, _ = await run(capsys, "keys", "status")
    assert "everything is sealed with 'k2'" in out

    # 4. Drop the old key: everything still opens.
    use_keys(monkeypatch, ONLY_NEW)
    code, out, err = await run(capsys, "lookup", "--brief", IMEI.digits)
    assert code == 0, err
    assert "submitted" not in out and "under_review" in out


async def test_rotate_without_the_key_a_value_needs_fails_saying_which(
    register, monkeypatch, capsys
):
    use_keys(monkeypatch, ONLY_NEW)

    code, out, err = await run(capsys, "keys", "rotate")

    assert code == 1
    assert "report         re-sealed 0  already current 0  unreadable 3" in out
    [line] = err.splitlines()
    assert "they need 'k1'" in line and "add it back to DATA_KEYS" in line


async def test_another_index_key_is_refused_in_one_line(register, monkeypatch, capsys):
    other = KeyRing(keys=OLD.keys, index_key=KeyRing.generate().index_key)
    use_keys(monkeypatch, OLD)
    assert (await run(capsys, "lookup", IMEI.digits))[0] == 0
    use_keys(monkeypatch, other)

    for command in (["lookup", IMEI.digits], ["keys", "rotate"]):
        code, _out, err = await run(capsys, *command)
        assert code == 1
        [line] = err.splitlines()
        assert "INDEX_KEY is not the key this register's IMEIs" in line
        assert "cannot be changed on an existing register" in line


async def test_bad_batch_size_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["keys", "rotate", "--batch-size", "0"])
    assert exited.value.code == 2
    assert "between 1 and 100000" in capsys.readouterr().err


def run_process(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `python -m bot ARGS` as a real process, with nothing on its stdin but /start."""
    return run_cli(cwd, env, args, 120, stdin="/start\n")


async def test_run_and_console_refuse_to_start_without_a_key_in_use(register, tmp_path):
    env = {k: v for k, v in os.environ.items() if k.upper() not in VARIABLES}
    env.update(database_environment(register.db), **ONLY_NEW.to_env())
    env.update(PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN="123456:" + "x" * 35)

    for command in ("run", "console"):
        started = await asyncio.to_thread(run_process, env, command, cwd=tmp_path)
        assert started.returncode == 1, (command, started.stderr)
        [line] = started.stderr.splitlines()
        assert line.startswith("reportbot: DATA_KEYS lacks key that sealed data still needs: 'k1'")
