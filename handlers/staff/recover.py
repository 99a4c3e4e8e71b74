"""/recover: an admin sends a file of seized IMEIs, sees what matches, and confirms.

Waiting for the file is a step of the engine (`FILE`, which takes a document), held as a
`ChatWait` with its deadline on the one clock; a file sent with /recover as its caption, or a
/recover that replies to a file, is checked at once. The parsed file waits in the chat's memory
under a short token until Confirm or Cancel; the token is taken out before anything is applied,
so a Confirm pressed twice applies once.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, filters

from handlers.context import BotContext
from handlers.engine import callbacks
from handlers.engine.actions import Confirmations
from handlers.engine.steps import Steps
from handlers.engine.waits import WHAT, Awaited, ChatWait
from handlers.staff.access import StaffUser, staff_only
from handlers.staff.press import Press
from handlers.staff.render import RECOVERY
from handlers.staff.turn import StaffTurn
from handlers.texts import Html, describe, text
from models.present.recovery import results_bytes
from models.services.recovery import RecoveryOutcome, describe_candidate
from models.services.reports import Match
from models.services.seized import SeizedFileError, read_seized
from models.services.staff import Role

PENDING = "staff_recovery_pending"
CONFIRM = "ok"
CANCEL = "no"
WAIT_FOR_FILE = timedelta(minutes=15)
# The staff's question waiting for the chat's next message (one at a time per chat).
WAITING = ChatWait("staff_wait", WAIT_FOR_FILE)
FILE = "recover_file"
# One checked file at a time per chat; its token is taken out before it is applied.
PENDING_FILES = callbacks.Tickets(PENDING, timedelta(minutes=30), most=1)
MAX_FILE_MB = 10
SHOWN = 20
CANDIDATES_SHOWN = 4
CAPTION_COMMAND = re.compile(r"^/recover(@\w+)?(\s|$)", re.IGNORECASE)
WITH_COMMAND = filters.Document.ALL & filters.CaptionRegex(CAPTION_COMMAND)


def _shown(items: list[str]) -> str:
    more = len(items) - SHOWN
    shown = ", ".join(items[:SHOWN])
    return shown + (f" … (+{more})" if more > 0 else "")


def _candidates(reports: tuple[Match, ...]) -> str:
    shown = " · ".join(describe_candidate(match) for match in reports[:CANDIDATES_SHOWN])
    more = len(reports) - CANDIDATES_SHOWN
    return shown + (f" · (+{more})" if more > 0 else "")


def summary(outcome: RecoveryOutcome) -> tuple[str, bool]:
    """The dry run in words, and whether some lists were cut short."""
    plan = outcome.plan
    seized = plan.seized
    lines = [
        text(
            "staff.recover_summary",
            values=seized.values,
            matched=len(plan.matched),
            unknown=len(plan.unknown),
            malformed=len(seized.malformed),
            duplicates=len(seized.duplicates),
            ambiguous=len(plan.ambiguous),
        )
    ]
    to_recover = [match.reference for match in plan.to_recover]
    left_alone = [f"{m.reference} ({m.status.value})" for m in plan.left_alone]
    if to_recover:
        lines.append(
            text("staff.recover_to_recover", count=len(to_recover), references=_shown(to_recover))
        )
    if left_alone:
        lines.append(
            text("staff.recover_left_alone", count=len(left_alone), references=_shown(left_alone))
        )
    cut = len(to_recover) > SHOWN or len(left_alone) > SHOWN
    shown_lines = SHOWN // 2
    listed = [
        (
            "staff.recover_ambiguous_title",
            [
                text(
                    "staff.recover_ambiguous_line",
                    line=handset.line,
                    reports=_candidates(handset.reports),
                )
                for handset in plan.ambiguous
            ],
        ),
        (
            "staff.recover_unknown_title",
            [
                text("staff.recover_unknown_line", line=item.line, imei=item.imei.digits)
                for item in plan.unknown
            ],
        ),
    ]
    for title, entries in listed:
        if entries:
            lines.append(text(title, count=len(entries)))
            lines += entries[:shown_lines]
        if len(entries) > shown_lines:
            lines.append(text("staff.recover_more", count=len(entries) - shown_lines))
            cut = True
    if seized.malformed:
        lines.append(text("staff.recover_malformed_title"))
        for bad in seized.malformed[:shown_lines]:
            reason = Html(describe(bad.error)) if bad.error else bad.reason
            lines.append(text("staff.recover_malformed_line", line=bad.line, reason=reason))
        if len(seized.malformed) > shown_lines:
            extra = len(seized.malformed) - shown_lines
            lines.append(text("staff.recover_more", count=extra))
            cut = True
    if seized.duplicates:
        lines.append(text("staff.recover_duplicates_title"))
        for repeat in seized.duplicates[:shown_lines]:
            lines.append(
                text("staff.recover_duplicate_line", line=repeat.line, first=repeat.first_line)
            )
        if len(seized.duplicates) > shown_lines:
            extra = len(seized.duplicates) - shown_lines
            lines.append(text("staff.recover_more", count=extra))
            cut = True
    return "\n".join(lines), cut


def results_file(outcome: RecoveryOutcome) -> bytes:
    """Every line of the file and what it matched, as a spreadsheet-safe CSV."""
    return results_bytes(
        outcome.plan,
        lambda bad: describe(bad.error, html_text=False) if bad.error else bad.reason,
    )


def _buttons(data: dict[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(text("staff.button_confirm"), callback_data=data[CONFIRM]),
                InlineKeyboardButton(text("staff.button_cancel"), callback_data=data[CANCEL]),
            ]
        ]
    )


def ask_file(turn: StaffTurn) -> None:
    """Ask for the file of seized IMEIs."""
    turn.say(text("staff.recover_prompt"))


async def check_file(turn: StaffTurn, document: Document) -> None:
    """Download and match the file (a dry run, audited), then offer Confirm and Cancel."""
    context = turn.context
    assert context.chat_data is not None
    WAITING.end(context.chat_data)  # the file answers the wait, however it came
    limits = context.register.recovery.limits.capped(int(MAX_FILE_MB * 1_000_000))
    size_mb = (document.file_size or 0) / 1_000_000
    if size_mb > limits.max_mb:
        turn.say(text("staff.recover_too_big", size=f"{size_mb:.1f}", limit=f"{limits.max_mb:g}"))
        return
    content = await (await document.get_file()).download_as_bytearray()
    try:
        seized = read_seized(io.BytesIO(content), limits)
    except SeizedFileError as exc:
        reason = Html(text(f"staff.{exc.code}", **exc.params))
        turn.say(text("staff.recover_bad_file", reason=reason))
        return
    staff = turn.staff
    outcome = await context.register.recovery.run(
        seized, actor=staff.actor, actor_id=staff.user_id, dry_run=True, channel="telegram"
    )
    described, cut = summary(outcome)
    count = len(outcome.plan.to_recover)
    if count:
        data = CONFIRM_FILE.hold(context.chat_data, {"seized": seized})
        question = text("staff.recover_confirm_question", count=count)
        turn.say(f"{described}\n\n{question}", _buttons(data))
    else:
        CONFIRM_FILE.drop(context.chat_data)
        turn.say(f"{described}\n\n{text('staff.recover_nothing_to_do')}")
    if cut:
        turn.attach(
            results_file(outcome), "recovery-results.csv", text("staff.recover_results_caption")
        )


# The one question /recover waits on: the file, sent as a document.
STEPS: Steps[StaffTurn] = Steps()
STEPS.declare(FILE, ask_file, on_document=check_file)


def _turn(update: Update, context: BotContext, staff: StaffUser) -> StaffTurn:
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None and chat is not None
    return StaffTurn(context, staff, chat.id, message)


@staff_only(Role.ADMIN)
async def recover(update: Update, context: BotContext, staff: StaffUser) -> None:
    """/recover: check the file it replies to, or wait for the admin to send one."""
    turn = _turn(update, context, staff)
    replied = turn.message.reply_to_message
    if replied is not None and replied.document is not None:
        await check_file(turn, replied.document)
    else:
        WAITING.start(context.chat_state, FILE)
        STEPS[FILE].ask(turn)
    await turn.flush()


def answers(application: Application) -> filters.BaseFilter:
    """A file for /recover: the answer to the step waiting for it, or sent with /recover as its
    caption (the routes' filter; the role is checked by the handler, on every call)."""
    return Awaited(application.chat_data, WAITING, STEPS) | WITH_COMMAND


@staff_only(Role.ADMIN)
async def on_file(update: Update, context: BotContext, staff: StaffUser) -> None:
    """The file of seized IMEIs: the answer to the waiting step (or to /recover in its caption)."""
    turn = _turn(update, context, staff)
    assert turn.message.document is not None
    wait = WAITING.take(context.chat_data)  # before the first await: a second file finds none
    step = STEPS[wait[WHAT] if wait is not None else FILE]
    assert step.on_document is not None
    await step.on_document(turn, turn.message.document)
    await turn.flush()


async def _apply(press: Press, held: dict[str, Any]) -> None:
    """Confirm: recover the matched reports (once) and say what was done."""
    staff = press.staff
    outcome = await press.context.register.recovery.run(
        held["seized"],
        actor=staff.actor,
        actor_id=staff.user_id,
        dry_run=False,
        channel="telegram",
    )
    lines = [
        text(
            "staff.recover_done",
            count=len(outcome.recovered),
            notifications=outcome.notifications,
        )
    ]
    if outcome.recovered:
        references = _shown(list(outcome.recovered))
        lines.append(text("staff.recover_done_references", references=references))
    if outcome.held_back:
        references = _shown(list(outcome.held_back))
        lines.append(text("staff.recover_done_held_back", references=references))
    await press.say("\n".join(lines))


async def _cancelled(press: Press, held: dict[str, Any]) -> None:
    """Cancel: the file is forgotten, nothing changed."""
    await press.say(text("staff.recover_cancelled"))


async def _expired(press: Press) -> None:
    """A press on a file already applied, cancelled, replaced or timed out."""
    await press.say(text("staff.recover_expired"))


# The checked file waits for Confirm or Cancel; either takes it, once.
CONFIRM_FILE: Confirmations[Press] = Confirmations(
    RECOVERY, PENDING_FILES, {CONFIRM: _apply, CANCEL: _cancelled}, _expired
)


@staff_only(Role.ADMIN)
async def on_button(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Confirm (apply, once) or Cancel the pending recovery."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    # Taken out before the first await, so a second press finds nothing to apply.
    run = CONFIRM_FILE.take(context.chat_data, query.data or "")
    press = Press(context, staff, chat.id, query)
    await press.settle()
    await run(press)
