"""Refusing the wrong keys, and keys that leave sealed data unreadable.

A register remembers a fingerprint of the keys it was sealed with (the key check), and every
sealed column has a key-id column that the database derives from it and indexes
(`models.storage.tables.SEALED_COLUMNS`). Finding which keys are in use is therefore a few index
look-ups per table, whatever the register's size.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.sealing.vault import CryptoError, Vault
from models.storage.database import Database
from models.storage.tables import SEALED_COLUMNS, KeyCheck, SealedColumn

CANARY = b"stolen-phone-register"
CONTEXT = b"key-check"
# More distinct key ids than this in one column means the column holds garbage, not keys.
MAX_KEY_IDS = 100
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")


class KeyMismatch(Exception):
    """The keys given cannot open this register; the message names which key is wrong."""


async def key_ids_in(session: AsyncSession, column: SealedColumn) -> set[str]:
    """The distinct key ids in COLUMN, one index seek each (a loose index scan)."""
    key_id = getattr(column.table, column.key_id)
    found: set[str] = set()
    last: str | None = None
    while len(found) < MAX_KEY_IDS:
        query = select(key_id).where(key_id.is_not(None))
        if last is not None:
            query = query.where(key_id > last)
        value = (await session.execute(query.order_by(key_id).limit(1))).scalar()
        if value is None:
            break
        found.add(value)
        last = value
    return found


async def keys_in_use(db: Database) -> dict[str, set[str]]:
    """For each table with sealed values, the ids of the keys they are sealed with."""
    async with db.read() as session:
        return {column.name: await key_ids_in(session, column) for column in SEALED_COLUMNS}


def missing_keys(in_use: dict[str, set[str]], vault: Vault) -> dict[str, list[str]]:
    """Key ids in use that VAULT does not hold, with the tables that need each."""
    known = set(vault.key_ids)
    missing: dict[str, list[str]] = {}
    for table, key_ids in in_use.items():
        for key_id in sorted(key_ids):
            # A header that is not a key id is a damaged value: rotation reports those.
            if key_id not in known and _KEY_ID.fullmatch(key_id):
                missing.setdefault(key_id, []).append(table)
    return missing


def describe_missing(missing: dict[str, list[str]]) -> str:
    """One line saying which keys are missing, where they are needed, and what to do."""
    keys = ", ".join(f"{key_id!r} ({', '.join(tables)})" for key_id, tables in missing.items())
    return (
        f"DATA_KEYS lacks {_plural(missing, 'key')} that sealed data still needs: {keys}; "
        "add it back to DATA_KEYS after the newest key, start once, and run "
        "`reportbot keys rotate` before removing it"
    )


def _plural(items: Iterable[object], word: str) -> str:
    return word if len(list(items)) == 1 else f"{word}s"


async def verify_keys(db: Database, vault: Vault, *, allow_missing: bool = False) -> None:
    """Raise KeyMismatch unless VAULT's keys are this register's; a new register adopts them.

    Also refused: a ring that lacks a key some sealed value still needs (unless ALLOW_MISSING,
    for the command that reports and repairs what it can).
    """
    expected = vault.blind_index("key-check", CANARY.decode())
    async with db.read() as session:
        check = await session.get(KeyCheck, 1)
    if check is None:
        async with db.write() as session:
            check = await session.get(KeyCheck, 1)
            if check is None:
                check = KeyCheck(id=1, index_check=expected, sealed=_seal(vault))
                session.add(check)
    if not hmac.compare_digest(check.index_check, expected):
        raise KeyMismatch(
            "INDEX_KEY is not the key this register's IMEIs and phone numbers were indexed with: "
            "set the register's INDEX_KEY again (check DATA_KEYS/INDEX_KEY or data/keys.json); "
            "INDEX_KEY cannot be changed on an existing register"
        )
    try:
        vault.open(check.sealed, context=CONTEXT)
    except CryptoError:
        raise KeyMismatch(
            "DATA_KEYS cannot open this register's data: add the register's key back to DATA_KEYS"
        ) from None
    if not allow_missing:
        missing = missing_keys(await keys_in_use(db), vault)
        if missing:
            raise KeyMismatch(describe_missing(missing))
    if vault.needs_reseal(check.sealed):
        await reseal_check(db, vault)


async def reseal_check(db: Database, vault: Vault) -> None:
    """Seal the key check's canary again under VAULT's current key (if it is not already)."""
    async with db.write() as session:
        stored = await session.get(KeyCheck, 1)
        if stored is not None and vault.needs_reseal(stored.sealed):
            vault.open(stored.sealed, context=CONTEXT)  # only the register's keys may replace it
            stored.sealed = _seal(vault)


def _seal(vault: Vault) -> bytes:
    return vault.seal(CANARY, context=CONTEXT)
