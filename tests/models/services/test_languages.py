"""A report remembers the language it was filed in; a following chat may choose its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from models.register import Register
from models.services.reports import report_context
from models.storage.tables import Report, Subscription
from models.values.statuses import Status
from tests.factories import rows, set_report_columns
from tests.followup_fixtures import file_report

LEASE = timedelta(seconds=60)


def later() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=1)


async def claimed(register: Register):
    return await register.outbox.claim("w", later(), limit=100, lease=LEASE)


async def test_a_report_keeps_the_language_it_was_filed_in(register: Register) -> None:
    filed = await file_report(register, language="pl", make="samsung")
    [row] = await rows(register.db, Report, Report.id == filed.report_id)
    assert row.language == "pl"
    view = await register.reports.get(filed.reference)
    assert view is not None and view.language == "pl"


async def test_reports_filed_before_the_column_read_their_sealed_answers_else_english(
    register: Register,
) -> None:
    spanish = await file_report(register, language="es")
    unknown = await file_report(register, language="es")
    await set_report_columns(register.db, spanish.reference, language=None)
    # A row whose sealed answers hold no language either: English.
    [row] = await rows(register.db, Report, Report.id == unknown.report_id)
    private = register.vault.open_json(row.sealed, context=report_context(row.reference))
    private.pop("language")
    resealed = register.vault.seal_json(private, context=report_context(row.reference))
    await set_report_columns(register.db, unknown.reference, language=None, sealed=resealed)

    assert (await register.reports.get(spanish.reference)).language == "es"
    assert (await register.reports.get(unknown.reference)).language == "en"
    for filed, chat in ((spanish, 1), (unknown, 2)):
        await register.subscriptions.subscribe(filed.report_id, chat, via="code")
        await register.reports.change_status(filed.reference, Status.LOCATED, actor="o")
    languages = {item.chat_id: item.language for item in await claimed(register)}
    assert languages == {1: "es", 2: "en"}


async def test_notifications_go_out_in_the_chats_choice_else_the_reports(
    register: Register,
) -> None:
    filed = await file_report(register, language="de", make="samsung", platform="android")
    await register.subscriptions.subscribe(filed.report_id, 10, via="own_account")
    await register.subscriptions.subscribe(filed.report_id, 20, via="code", language="ar")
    await register.subscriptions.subscribe(filed.report_id, 30, via="deep_link")
    assert await register.subscriptions.choose_language(filed.report_id, 30, "fr")
    assert not await register.subscriptions.choose_language(filed.report_id, 99, "fr")

    await register.reports.change_status(filed.reference, Status.RECOVERED, actor="o")

    items = {item.chat_id: item for item in await claimed(register)}
    assert {chat: item.language for chat, item in items.items()} == {10: "de", 20: "ar", 30: "fr"}
    assert {(item.make, item.platform) for item in items.values()} == {("samsung", "android")}
    active = await register.subscriptions.active(filed.report_id)
    chosen = [(item.chat_id, item.language) for item in active]
    assert chosen == [(10, None), (20, "ar"), (30, "fr")]


async def test_subscribing_again_keeps_the_chosen_language_unless_a_new_one_is_given(
    register: Register,
) -> None:
    filed = await file_report(register, language="it")
    await register.subscriptions.subscribe(filed.report_id, 5, via="code", language="ro")
    await register.subscriptions.unsubscribe(filed.report_id, 5)
    await register.subscriptions.subscribe(filed.report_id, 5, via="code")
    [row] = await rows(register.db, Subscription, Subscription.chat_id == 5)
    assert (row.active, row.language) == (True, "ro")
    await register.subscriptions.subscribe(filed.report_id, 5, via="code", language="zh")
    [row] = await rows(register.db, Subscription, Subscription.chat_id == 5)
    assert row.language == "zh"
    async with register.db.write() as session:
        await session.execute(update(Subscription).values(language=None))
    await register.reports.change_status(filed.reference, Status.LOCATED, actor="o")
    [item] = await claimed(register)
    assert item.language == "it"


async def test_following_gives_one_chat_s_subscription_and_its_language(
    register: Register,
) -> None:
    filed = await file_report(register, language="pt")
    await register.subscriptions.subscribe(filed.report_id, 10, via="code", language="zh")
    await register.subscriptions.subscribe(filed.report_id, 20, via="own_account")
    zh = await register.subscriptions.following(filed.report_id, 10)
    assert zh is not None and (zh.chat_id, zh.via, zh.language) == (10, "code", "zh")
    own = await register.subscriptions.following(filed.report_id, 20)
    assert own is not None and own.language is None
    await register.subscriptions.unsubscribe(filed.report_id, 10)
    assert await register.subscriptions.following(filed.report_id, 10) is None
    assert await register.subscriptions.following(filed.report_id, 99) is None
