"""Files that appear whole or not at all: every file the register writes goes through here.

A file is written under a temporary name in its target's folder (so that the final rename is
atomic on one filesystem), synced to disk, renamed into place, and the folder synced too, so
that after a crash or a power cut the target is either the old file or the complete new one,
never a half-written one. Temporary files are created 0600, like every file holding register
data.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal

# link() fails with these where a filesystem has no hard links (some network and FAT mounts).
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})


@contextmanager
def atomic_path(target: Path, *, exclusive: bool = False) -> Iterator[Path]:
    """A temporary path beside TARGET to fill; on success it becomes TARGET, synced.

    On an error the temporary file is removed and TARGET is left as it was. With EXCLUSIVE an
    existing TARGET is never replaced: FileExistsError is raised after the body instead (and a
    race between two writers has exactly one winner).
    """
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        _sync_file(temporary)
        if exclusive:
            _link_new(temporary, target)
        else:
            os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    if exclusive:  # the link gave the file a second name; this one goes
        with contextlib.suppress(OSError):
            temporary.unlink()
    _sync_directory(target.parent)


@contextmanager
def atomic_write(
    target: Path, mode: Literal["w", "wb"] = "w", *, exclusive: bool = False
) -> Iterator[IO[Any]]:
    """Open a file to write whose content appears at TARGET only once complete and synced.

    Text mode is UTF-8 with newlines written as given (CSV writers choose their own line ends).
    """
    with atomic_path(target, exclusive=exclusive) as temporary:
        if mode == "wb":
            out: IO[Any] = open(temporary, "wb")  # noqa: SIM115 (closed below)
        else:
            out = open(temporary, "w", encoding="utf-8", newline="")  # noqa: SIM115
        with out:
            yield out
            out.flush()


def write_file(target: Path, content: bytes, *, exclusive: bool = False) -> None:
    """Write CONTENT to TARGET atomically (see atomic_path)."""
    with atomic_write(target, "wb", exclusive=exclusive) as out:
        out.write(content)


def _link_new(temporary: Path, target: Path) -> None:
    # link() never replaces an existing file, so exactly one of several racers wins.
    try:
        os.link(temporary, target)
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        # No hard links on this filesystem: an exclusive create in place, then the copy.
        fd = os.open(
            target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600
        )
        try:
            with open(temporary, "rb") as source, os.fdopen(fd, "wb", closefd=False) as out:
                shutil.copyfileobj(source, out)
                out.flush()
                os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                target.unlink()
            raise
        finally:
            os.close(fd)


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_directory(directory: Path) -> None:
    # A rename is durable only once its folder is synced; Windows cannot open a folder so.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
