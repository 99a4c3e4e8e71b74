"""Opening the register from settings: keys, database, schema check."""

from __future__ import annotations

from datetime import timedelta

from bot.settings import Settings, SettingsError
from models.register import Register, RegisterConfig
from models.sealing.keycheck import KeyMismatch, verify_keys
from models.sealing.keyfile import load_or_create_key_file
from models.sealing.vault import CryptoError, KeyRing, Vault
from models.services.alerts import ClusterRule
from models.services.websessions import SessionRules
from models.storage.database import Database


def key_ring(settings: Settings) -> KeyRing:
    """The data keys from the environment, or from the generated key file."""
    try:
        data_keys, index_key = settings.data_keys_value, settings.index_key_value
        if data_keys or index_key:
            if not (data_keys and index_key):
                missing = "INDEX_KEY" if data_keys else "DATA_KEYS"
                raise SettingsError(f"{missing} must be set together with the other key setting")
            return KeyRing.parse(data_keys, index_key)
        return load_or_create_key_file(settings.key_file)
    except CryptoError as exc:
        raise SettingsError(f"bad key setting: {exc}") from None


def database(settings: Settings) -> Database:
    """The database the settings name (not yet connected)."""
    return Database(settings.effective_database_url, schema=settings.database_schema)


async def open_register(
    settings: Settings, *, check_schema: bool = True, allow_missing_keys: bool = False
) -> Register:
    """A register ready to use; refuses a database whose schema is not this code's.

    Also refuses keys that are not the register's, or that lack a key some sealed value still
    needs (ALLOW_MISSING_KEYS lets `reportbot keys` report and repair what it can).
    """
    db = database(settings)
    try:
        if check_schema:
            await db.check_schema()
        vault = Vault(key_ring(settings))
        if check_schema:
            await verify_keys(db, vault, allow_missing=allow_missing_keys)
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
        cluster_rule=ClusterRule(
            min_reports=settings.alert_cluster_min_reports,
            radius_metres=settings.alert_cluster_radius_metres,
            window=timedelta(hours=settings.alert_cluster_window_hours),
        ),
        service_area=settings.service_area_box,
        nominatim_url=settings.nominatim_url,
        nominatim_user_agent=settings.nominatim_user_agent,
        recovery_max_file_mb=settings.recovery_max_file_mb,
        web_sessions=SessionRules(
            link_ttl=timedelta(minutes=settings.web_link_minutes),
            idle=timedelta(minutes=settings.web_session_idle_minutes),
            absolute=timedelta(hours=settings.web_session_hours),
            failures_allowed=settings.web_sign_in_failures,
        ),
    )
    return Register(db, vault, config)
