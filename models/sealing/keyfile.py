"""The generated key file (mode 0600) that an embedded deployment keeps its keys in."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from models.sealing.vault import KeyConfigError, KeyRing
from models.storage.files import write_file


def load_or_create_key_file(path: Path) -> KeyRing:
    """Load the ring from a JSON key file, creating it (mode 0600) with fresh keys if missing."""
    path = Path(path)
    for _ in range(3):
        try:
            return _read_key_file(path)
        except FileNotFoundError:
            pass
        ring = KeyRing.generate()
        if _create_key_file(path, ring):
            return ring
        # Another process created it between our read and our create: adopt its keys.
    # Reached when the name exists but cannot be opened, e.g. a dangling symlink.
    raise KeyConfigError(f"key file {path}: exists but cannot be opened")


def _read_key_file(path: Path) -> KeyRing:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise KeyConfigError(f"key file {path}: cannot read ({error.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise KeyConfigError(f"key file {path}: not valid JSON") from None
    if not isinstance(data, dict):
        raise KeyConfigError(f"key file {path}: expected a JSON object")
    for field in ("data_keys", "index_key"):
        if not isinstance(data.get(field), str):
            raise KeyConfigError(f"key file {path}: missing or non-string {field!r}")
    try:
        return KeyRing._parse(data["data_keys"], data["index_key"], "data_keys", "index_key")
    except KeyConfigError as error:
        raise KeyConfigError(f"key file {path}: {error}") from None


def _make_private_dirs(directory: Path) -> None:
    missing: list[Path] = []
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    # mkdir(parents=True) ignores the mode for intermediate folders, so create each one.
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)


def _create_key_file(path: Path, ring: KeyRing) -> bool:
    """Publish ``ring`` at ``path`` unless it exists; return whether this call created it."""
    env = ring.to_env()
    content = json.dumps({"data_keys": env["DATA_KEYS"], "index_key": env["INDEX_KEY"]}, indent=2)
    payload = (content + "\n").encode("utf-8")
    try:
        _make_private_dirs(path.parent)
        created = _publish(path, payload)
    except OSError as error:
        raise KeyConfigError(f"key file {path}: cannot create ({error.strerror})") from None
    return created


def _publish(path: Path, payload: bytes) -> bool:
    # Exclusive: an existing key file is never replaced, so exactly one racer wins.
    try:
        write_file(path, payload, exclusive=True)
    except FileExistsError:
        return False
    return True
