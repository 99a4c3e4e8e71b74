"""Key rotation: everything sealed again under the newest key, resumably, beside a running bot."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import LargeBinary, select
from sqlmodel import SQLModel

from models.register import Register
from models.sealing.keycheck import KeyMismatch, keys_in_use, verify_keys
from models.sealing.vault import KeyRing, Vault
from models.services.drafts import DraftState
from models.services.rotation import KeyRotation
from models.storage.database import Database
from models.storage.tables import SEALED_COLUMNS, Draft, Report, StatusChange
from models.values.statuses import Status
from tests.factories import audit_events, new_report

OLD = KeyRing.generate("k1")
NEW = OLD.rotated("k2")
ONLY_NEW = KeyRing(keys=NEW.keys[:1], index_key=OLD.index_key)


async def fill(register: Register, reports: int = 5, drafts: int = 3) -> list[str]:
    """File REPORTS reports (each with a noted status change) and DRAFTS drafts."""
    references = []
    for number in range(reports):
        filed = await register.reports.file(
            new_report(contact_name=f"Victim {number}"), uuid.uuid4().hex
        )
        await register.reports.change_status(
            filed.reference, Status.UNDER_REVIEW, actor="officer", note=f"called back {number}"
        )
        references.append(filed.reference)
    for chat in range(drafts):
        await register.drafts.save(
            DraftState(chat_id=500 + chat, user_id=500 + chat, step="imei", answers={"n": chat})
        )
    return references


async def key_ids(db: Database) -> dict[str, set[str]]:
    """The key id of every sealed value, read from the values themselves."""
    found: dict[str, set[str]] = {}
    async with db.read() as session:
        for column in SEALED_COLUMNS:
            values = (await session.execute(select(getattr(column.table, column.sealed)))).scalars()
            found[column.name] = {
                Vault(OLD).key_id_of(value) for value in values if value is not None
            }
    return found


async def test_every_sealed_value_moves_to_the_newest_key_and_opens_without_the_old(
    database: Database,
):
    references = await fill(Register(database, Vault(OLD)))
    await verify_keys(database, Vault(OLD))
    assert await keys_in_use(database) == {
        "report": {"k1"},
        "status_change": {"k1"},
        "draft": {"k1"},
    }

    result = await KeyRotation(database, Vault(NEW)).rotate(actor="cli:test")

    counts = {t.table: (t.resealed, t.already_current, t.unreadable) for t in result.tables}
    # Filing records a first history entry without a note: only the 5 noted changes are sealed.
    assert counts == {"report": (5, 0, 0), "status_change": (5, 0, 0), "draft": (3, 0, 0)}
    assert result.complete
    assert await key_ids(database) == {"report": {"k2"}, "status_change": {"k2"}, "draft": {"k2"}}
    assert await keys_in_use(database) == {
        "report": {"k2"},
        "status_change": {"k2"},
        "draft": {"k2"},
    }
    # The old key can go: everything opens with the new key alone.
    await verify_keys(database, Vault(ONLY_NEW))
    register = Register(database, Vault(ONLY_NEW))
    for number, reference in enumerate(references):
        view = await register.reports.get(reference)
        assert view is not None
        assert view.get("contact_name") == f"Victim {number}"
        assert [entry.note for entry in view.history if entry.note] == [f"called back {number}"]
    draft = await register.drafts.get(501)
    assert draft is not None and draft.answers == {"n": 1}
    [event] = await audit_events(database, "keys_rotate")
    assert event.actor == "cli:test"
    assert '"resealed": 5' in event.details and "Victim" not in event.details

    again = await KeyRotation(database, Vault(NEW)).rotate()
    assert [(t.resealed, t.already_current) for t in again.tables] == [(0, 5), (0, 5), (0, 3)]


async def test_dropping_a_key_still_in_use_is_refused_naming_it(database: Database):
    await fill(Register(database, Vault(OLD)), reports=1, drafts=0)
    await verify_keys(database, Vault(NEW))  # the start-up with the new key first passes

    with pytest.raises(KeyMismatch) as refused:
        await verify_keys(database, Vault(ONLY_NEW))

    message = str(refused.value)
    assert "\n" not in message
    assert "'k1' (report, status_change)" in message
    assert "reportbot keys rotate" in message


async def test_a_stopped_rotation_resumes_where_it_was(database: Database):
    await fill(Register(database, Vault(OLD)), reports=7, drafts=0)

    class Stop(Exception):
        pass

    def stop_after_first_batch(table):
        if table.table == "report":
            raise Stop

    with pytest.raises(Stop):
        await KeyRotation(database, Vault(NEW)).rotate(
            batch_size=3, progress=stop_after_first_batch
        )
    assert (await KeyRotation(database, Vault(NEW)).usage())["report"] == {"k1": 4, "k2": 3}

    result = await KeyRotation(database, Vault(NEW)).rotate(batch_size=3)

    report = result.tables[0]
    assert (report.resealed, report.already_current) == (4, 3)
    assert result.complete
    await verify_keys(database, Vault(ONLY_NEW))


@pytest.mark.parametrize("writer_ring", [NEW, OLD], ids=["writer-on-new-key", "writer-on-old-key"])
async def test_a_row_changed_during_rotation_keeps_the_newer_data(
    database: Database, writer_ring: KeyRing
):
    await fill(Register(database, Vault(OLD)), reports=0, drafts=3)
    # The bot (this writer) saves a victim's new answer between the rotation's read and write.
    bot = Register(database, Vault(writer_ring))

    class Interleaved(KeyRotation):
        async def _reseal_batch(self, column, rows, outcome):
            if column.name == "draft" and not getattr(self, "done", False):
                self.done = True
                await bot.drafts.save(
                    DraftState(chat_id=501, user_id=501, step="when", answers={"n": "newer"})
                )
            return await super()._reseal_batch(column, rows, outcome)

    result = await Interleaved(database, Vault(NEW)).rotate()

    draft = await Register(database, Vault(ONLY_NEW)).drafts.get(501)
    assert draft is not None
    assert (draft.step, draft.answers) == ("when", {"n": "newer"})
    assert result.complete
    drafts = result.tables[2]
    assert drafts.resealed == (3 if writer_ring is OLD else 2)
    assert await key_ids(database) == {"report": set(), "status_change": set(), "draft": {"k2"}}


async def test_values_no_key_opens_are_counted_and_the_rest_rotated(database: Database, caplog):
    lost = KeyRing(keys=KeyRing.generate("k0").keys, index_key=OLD.index_key)
    await fill(Register(database, Vault(lost)), reports=1, drafts=0)
    await fill(Register(database, Vault(OLD)), reports=2, drafts=1)
    async with database.write() as session:
        draft = (await session.execute(select(Draft))).scalar_one()
        draft.sealed = draft.sealed[:-1] + bytes([draft.sealed[-1] ^ 1])  # damaged

    with caplog.at_level(logging.DEBUG, logger="reportbot.keys"):
        result = await KeyRotation(database, Vault(NEW)).rotate()

    by_table = {t.table: t for t in result.tables}
    assert (by_table["report"].resealed, by_table["report"].unreadable) == (2, 1)
    assert by_table["report"].missing_keys == {"k0"}
    assert (by_table["draft"].resealed, by_table["draft"].unreadable) == (0, 1)
    assert by_table["draft"].missing_keys == set()
    assert not result.complete
    assert "Victim" not in caplog.text
    assert len([r for r in caplog.records if r.getMessage() == "cannot open a sealed value"]) == 3
    with pytest.raises(KeyMismatch, match="'k0'"):
        await verify_keys(database, Vault(NEW))


async def test_the_key_id_columns_follow_every_write(database: Database):
    register = Register(database, Vault(OLD))
    [reference] = await fill(register, reports=1, drafts=1)
    register = Register(database, Vault(NEW))
    await register.reports.change_status(reference, Status.LOCATED, actor="o", note="seen")
    await register.drafts.save(DraftState(chat_id=500, user_id=500, step="x", answers={}))
    async with database.read() as session:
        reports = (await session.execute(select(Report.key_id))).scalars().all()
        notes = (await session.execute(select(StatusChange.note_key_id))).scalars().all()
        drafts = (await session.execute(select(Draft.key_id))).scalars().all()
    assert reports == ["k1"]
    assert sorted(notes, key=str) == sorted([None, "k1", "k2"], key=str)
    assert drafts == ["k2"]


def test_every_sealed_column_is_known_to_rotation():
    sealed = {
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    }
    known = {(column.name, column.sealed) for column in SEALED_COLUMNS}
    # The key check's canary is re-sealed by the start-up check itself.
    assert sealed - known == {("key_check", "sealed")}
