"""atomic_write: a file appears whole or not at all, synced, and a failure leaves the old one."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from models.storage.files import atomic_path, atomic_write, write_file

ROOT = Path(__file__).resolve().parents[3]


class Broken(Exception):
    """The failure a writer meets half-way."""


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_writes_the_whole_file_private(tmp_path: Path) -> None:
    """The content is at the target, mode 0600, and no temporary file is left."""
    target = tmp_path / "export.csv"
    with atomic_write(target) as out:
        out.write("reference,status\r\nSPR-7KQ4-M9,submitted\r\n")
    assert target.read_bytes() == b"reference,status\r\nSPR-7KQ4-M9,submitted\r\n"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _names(tmp_path) == ["export.csv"]


def test_a_failure_half_way_leaves_no_file(tmp_path: Path) -> None:
    """Nothing appears at the target when the writer fails after writing part of it."""
    target = tmp_path / "map.png"
    with pytest.raises(Broken), atomic_write(target, "wb") as out:
        out.write(b"\x89PNG half")
        out.flush()
        raise Broken
    assert _names(tmp_path) == []


def test_a_failure_half_way_keeps_the_earlier_file(tmp_path: Path) -> None:
    """An earlier file at the target stays exactly as it was."""
    target = tmp_path / "recovery.csv"
    target.write_text("earlier, complete\n")
    with pytest.raises(Broken), atomic_write(target) as out:
        out.write("line,value\n" * 1000)
        raise Broken
    assert target.read_text() == "earlier, complete\n"
    assert _names(tmp_path) == ["recovery.csv"]


def test_a_path_filled_by_another_program(tmp_path: Path) -> None:
    """atomic_path hands a temporary path (e.g. to SQLite) and publishes it only on success."""
    target = tmp_path / "register.db"
    with pytest.raises(Broken), atomic_path(target) as temporary:
        temporary.write_bytes(b"SQLite format 3\x00 half")
        raise Broken
    assert _names(tmp_path) == []
    with atomic_path(target) as temporary:
        temporary.write_bytes(b"SQLite format 3\x00 whole")
    assert target.read_bytes() == b"SQLite format 3\x00 whole"


def test_exclusive_never_replaces(tmp_path: Path) -> None:
    """With exclusive, an existing target wins: FileExistsError, it is unchanged, no leftovers."""
    target = tmp_path / "keys.json"
    write_file(target, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        write_file(target, b"second", exclusive=True)
    assert target.read_bytes() == b"first"
    assert _names(tmp_path) == ["keys.json"]


@pytest.mark.skipif(os.name != "posix", reason="folders are synced on POSIX only")
def test_the_file_and_its_folder_are_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fsync is called on the new file's data and on the folder that holds its new name."""
    synced: list[os.stat_result] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.fstat(fd))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    target = tmp_path / "backup.db"
    write_file(target, b"content")
    inodes = {(entry.st_ino, stat.S_ISDIR(entry.st_mode)) for entry in synced}
    assert (target.stat().st_ino, False) in inodes
    assert (tmp_path.stat().st_ino, True) in inodes


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_process_killed_while_writing_leaves_the_earlier_file(tmp_path: Path) -> None:
    """kill -9 in the middle of a write: a reader of the target finds the earlier file whole."""
    target = tmp_path / "export.csv"
    target.write_text("earlier\n")
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from models.storage.files import atomic_write\n"
        "with atomic_write(Path(sys.argv[1])) as out:\n"
        "    out.write('half of a new export\\n' * 10000)\n"
        "    out.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script, str(target)], cwd=ROOT, check=False, timeout=60
    )
    assert finished.returncode == -signal.SIGKILL
    assert target.read_text() == "earlier\n"
