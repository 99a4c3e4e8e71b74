"""Refusing the wrong keys: a register remembers a fingerprint of the keys it was sealed with."""

from __future__ import annotations

import hmac

from models.sealing.vault import CryptoError, Vault
from models.storage.database import Database
from models.storage.tables import KeyCheck

CANARY = b"stolen-phone-register"
CONTEXT = b"key-check"


class KeyMismatch(Exception):
    """The keys given cannot open this register; the message names which key is wrong."""


async def verify_keys(db: Database, vault: Vault) -> None:
    """Raise KeyMismatch unless VAULT's keys are this register's; a new register adopts them."""
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
            "INDEX_KEY is not this register's key (check DATA_KEYS/INDEX_KEY or data/keys.json)"
        )
    try:
        vault.open(check.sealed, context=CONTEXT)
    except CryptoError:
        raise KeyMismatch(
            "DATA_KEYS cannot open this register's data: add the register's key back to DATA_KEYS"
        ) from None
    if vault.needs_reseal(check.sealed):
        async with db.write() as session:
            stored = await session.get(KeyCheck, 1)
            if stored is not None:
                stored.sealed = _seal(vault)


def _seal(vault: Vault) -> bytes:
    return vault.seal(CANARY, context=CONTEXT)
