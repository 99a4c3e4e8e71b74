"""Filing the report exactly once, then the reference, access code, advice and follow-up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers import advice
from handlers.conversation import flow, required, states
from handlers.conversation.losskinds import loss_kind
from handlers.conversation.turn import Turn, question
from handlers.engine import clock
from handlers.i18n.moments import show_moment
from handlers.i18n.platforms import warnings
from handlers.texts import Html, escape
from models.services.reports import NewReport
from models.values.imei import Imei
from models.values.loss import LossKind
from models.values.phone import PhoneNumber
from models.values.reference import Reference, deep_link_payload

# What a filed draft keeps: enough to show the outcome again and to tailor the advice.
KEPT_AFTER_FILING = ("language", "platform", "make", "own_account", "loss_kind")


def _phone(stored: dict[str, str] | None) -> PhoneNumber | None:
    return PhoneNumber(stored["e164"], stored["region"]) if stored else None


def _moment(stored: str | None) -> datetime | None:
    return datetime.fromisoformat(stored) if stored else None


def new_report(answers: dict[str, Any], language: str) -> NewReport:
    """The report the answers make (the review has checked that nothing required is missing)."""
    contact = _phone(answers["contact_phone"])
    assert contact is not None
    return NewReport(
        make=answers["make"],
        platform=answers.get("platform"),
        model=answers.get("model"),
        colour=answers.get("colour"),
        imeis=tuple(Imei(digits) for digits in answers.get("imeis") or ()),
        stolen_number=_phone(answers.get("number")),
        network=answers.get("network"),
        incident_at=_moment(answers.get("incident_at")),
        incident_from=_moment(answers.get("incident_from")),
        incident_to=_moment(answers.get("incident_to")),
        theft_method=answers.get("theft_method"),
        tac_kept_against=answers.get("tac_kept_against"),
        loss_kind=kind.value if (kind := loss_kind(answers)) else None,
        place=answers.get("place"),
        incident_lat=answers.get("incident_lat"),
        incident_lon=answers.get("incident_lon"),
        tracked_place=answers.get("tracked_place"),
        tracked_lat=answers.get("tracked_lat"),
        tracked_lon=answers.get("tracked_lon"),
        tracked_at=_moment(answers.get("tracked_at")),
        contact_name=answers["contact_name"],
        contact_phone=contact,
        contact_email=answers.get("contact_email"),
        preferred_channel=answers.get("preferred_channel"),
        own_account=bool(answers.get("own_account")),
        language=language,
    )


async def submit(turn: Turn) -> None:
    """File the draft under its idempotency key: a double tap or a retry files one report."""
    assert turn.draft is not None
    gap = required.first_gap(turn.answers)
    if gap is not None:
        turn.say("review_incomplete")
        turn.goto(gap)
        return
    filed = await turn.context.register.reports.file(
        new_report(turn.answers, turn.lang), idempotency_key=turn.draft.idempotency_key
    )
    own = bool(turn.answers.get("own_account"))
    kind = loss_kind(turn.answers)
    kept = {name: turn.answers[name] for name in KEPT_AFTER_FILING if name in turn.answers}
    if kind is not None:
        kept["loss_kind"] = kind.value
    filed_at = filed.filed_at or clock.now()
    kept["filed"] = {
        "reference": filed.reference,
        "access_code": filed.access_code,
        "at": filed_at.isoformat(),
    }
    turn.draft.answers = kept
    turn.draft.step = flow.target(states.REVIEW, "submit")
    await turn.context.register.drafts.mark_filed(turn.draft, filed.report_id, subscribe=own)
    turn.dirty = False
    show_filed(turn)


def status_link(turn: Turn, reference: str, code: str) -> str:
    """The t.me link that opens this bot on another device and proves reference and code."""
    payload = deep_link_payload(Reference(reference), code)
    return f"https://t.me/{turn.context.bot.username}?start={payload}"


def police_note(turn: Turn) -> None:
    """A crime: report it to the police too and add the crime reference; lost: no need."""
    kind = turn.answers.get("loss_kind")
    if kind == LossKind.LOST:
        turn.say("filed_lost", keep=True)
    elif kind is not None:
        turn.say("filed_crime", keep=True, non_emergency=turn.context.config.non_emergency_number)


def show_filed(turn: Turn) -> None:
    """Reference and code, the advice, and how updates will reach the victim."""
    filed = turn.answers["filed"]
    reference, code = filed["reference"], filed["access_code"]
    make, platform = turn.answers.get("make"), turn.answers.get("platform", "other")
    never_ask = warnings(make, turn.lang, platform)["police_never_ask"]
    # Drafts filed before the time was kept show the time they are shown at.
    at = datetime.fromisoformat(filed["at"]) if filed.get("at") else clock.now()
    filed_at = Html(escape(show_moment(at, turn.lang, turn.context.config.zone)))
    turn.say(
        "filed",
        keep=True,
        reference=reference,
        code=code,
        filed_at=filed_at,
        police_never_ask=never_ask,
    )
    police_note(turn)
    for message in advice.full(turn.lang, platform, make):
        turn.send(message, keep=True)
    if turn.answers.get("own_account"):
        turn.say("follow_own", keep=True, reference=reference, code=code)
        return
    turn.say(
        "follow_borrowed",
        turn.keyboard([turn.any_button("clear", "clear")], per_row=1),
        keep=True,
        reference=reference,
        code=code,
        bot=turn.context.bot.username,
        link=status_link(turn, reference, code),
    )


def ask_filed(turn: Turn) -> None:
    """After filing: the reference again, a new report, and (borrowed) clearing the chat."""
    buttons = [turn.any_button("new_report", "new")]
    if not turn.answers.get("own_account"):
        buttons.append(turn.any_button("clear", "clear"))
    filed = turn.answers.get("filed") or {}
    turn.say(
        "already_filed", turn.keyboard(buttons, per_row=1), reference=filed.get("reference", "")
    )


def ask_cancelled(turn: Turn) -> None:
    """After /cancel: start again, or clear the chat."""
    buttons = [turn.any_button("new_report", "new"), turn.any_button("clear", "clear")]
    turn.say("nothing_in_progress", turn.keyboard(buttons, per_row=1))


question(states.FILED, ask_filed)
question(states.CANCELLED, ask_cancelled)
