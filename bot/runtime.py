"""Opening the register from settings: keys, database, schema check."""

from __future__ import annotations

from bot.settings import Settings, SettingsError
from models.register import Register, RegisterConfig
from models.sealing.keycheck import KeyMismatch, verify_keys
from models.sealing.keyfile import load_or_create_key_file
from models.sealing.vault import CryptoError, KeyRing, Vault
from models.storage.database import Database


def key_ring(settings: Settings) -> KeyRing:
    """The data keys from the environment, or from the generated key file."""
    try:
        if settings.data_keys or settings.index_key:
            if not (settings.data_keys and settings.index_key):
                missing = "INDEX_KEY" if settings.data_keys else "DATA_KEYS"
                raise SettingsError(f"{missing} must be set together with the other key setting")
            return KeyRing.parse(settings.data_keys, settings.index_key)
        return load_or_create_key_file(settings.key_file)
    except CryptoError as exc:
        raise SettingsError(f"bad key setting: {exc}") from None


def database(settings: Settings) -> Database:
    """The database the settings name (not yet connected)."""
    return Database(settings.effective_database_url, schema=settings.database_schema)


async def open_register(settings: Settings, *, check_schema: bool = True) -> Register:
    """A register ready to use; refuses a database whose schema is not this code's."""
    db = database(settings)
    try:
        if check_schema:
            await db.check_schema()
        vault = Vault(key_ring(settings))
        if check_schema:
            await verify_keys(db, vault)
    except KeyMismatch as exc:
        await db.dispose()
        raise SettingsError(str(exc)) from None
    except BaseException:
        # Also when the keys are bad: no connection is left open behind the error.
        await db.dispose()
        raise
    config = RegisterConfig(
        default_region=settings.default_region,
        report_retention_days=settings.report_retention_days,
        draft_ttl_hours=settings.draft_ttl_hours,
        recovery_max_file_mb=settings.recovery_max_file_mb,
    )
    return Register(db, vault, config)
