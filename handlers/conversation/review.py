"""The review: every answer in one summary (user text escaped), Edit per answer, Submit."""

from __future__ import annotations

from datetime import datetime

from handlers.conversation import keyboards, required, states
from handlers.conversation.losskinds import METHODS, loss_kind
from handlers.conversation.states import EDIT_GROUPS
from handlers.conversation.submit import submit
from handlers.conversation.turn import Turn, question
from handlers.conversation.when import stored_window, zone
from handlers.i18n.moments import show_moment
from handlers.i18n.windows import show_window
from handlers.texts import Html
from models.values.imei import Imei
from models.values.loss import LossKind
from models.values.phone import PhoneNumber


def first_gap(turn: Turn) -> str | None:
    """The first step whose answer the report cannot do without (or that no longer fits)."""
    return required.first_gap(turn.answers)


def _moment(turn: Turn, iso: str | None, exact: bool = True, time_known: bool = True) -> Html:
    if not iso:
        return Html(turn.t("not_given"))
    at = datetime.fromisoformat(iso)
    shown = show_moment(at, turn.lang, zone(turn), approximate=not exact, time_known=time_known)
    return Html(shown)


def _international(stored: dict[str, str]) -> str:
    return PhoneNumber(stored["e164"], stored["region"]).international


def _place(turn: Turn, words: str | None, lat: float | None, lon: float | None) -> Html:
    parts = []
    if words:
        parts.append(turn.t("plain", value=words))
    if lat is not None and lon is not None:
        parts.append(turn.t("pin", lat=f"{lat:.5f}", lon=f"{lon:.5f}"))
    return Html(", ".join(parts) if parts else turn.t("not_given"))


def how_it_happened(turn: Turn) -> str:
    """Lost, stolen or robbery, with how a theft happened when the victim said."""
    kind = loss_kind(turn.answers)
    if kind is None:
        return "-"
    shown = turn.t(f"loss_name_{kind.value}")
    method = turn.answers.get("theft_method")
    if kind is LossKind.THEFT_FROM_PERSON and method in METHODS:
        shown += f" – {turn.t(f'button_how_{method}')}"
    return shown


def summary_lines(turn: Turn) -> list[str]:
    """The review's lines, one per answer."""
    a = turn.answers
    device = " ".join(
        part
        for part in (turn.t(f"make_name_{a.get('make_choice', 'other')}"), a.get("model"))
        if part
    )
    lines = [
        turn.t("review_title"),
        "",
        turn.t("review_device", device=device),
    ]
    if a.get("colour"):
        lines.append(turn.t("review_colour", colour=a["colour"]))
    imeis = a.get("imeis") or []
    if imeis:
        for imei in imeis:
            lines.append(turn.t("review_imei", imei=Imei(imei).grouped))
    else:
        lines.append(turn.t("review_no_imei"))
    number = a.get("number")
    lines.append(
        turn.t(
            "review_number",
            number=_international(number) if number else turn.t("not_given"),
            network=a.get("network") or turn.t("not_given"),
        )
    )
    window = stored_window(a)
    when = show_window(window, turn.lang, zone(turn)) if window else turn.t("not_given")
    lines.append(turn.t("review_when", when=when))
    lines.append(
        turn.t(
            "review_where",
            where=_place(turn, a.get("place"), a.get("incident_lat"), a.get("incident_lon")),
        )
    )
    lines.append(turn.t("review_how", how=how_it_happened(turn)))
    if a.get("tracked_at"):
        place = _place(turn, a.get("tracked_place"), a.get("tracked_lat"), a.get("tracked_lon"))
        lines.append(turn.t("review_tracked", where=place, when=_moment(turn, a.get("tracked_at"))))
    contact = a.get("contact_phone")
    lines += [
        turn.t("review_name", name=a.get("contact_name", "")),
        turn.t("review_phone", phone=_international(contact) if contact else ""),
        turn.t("review_email", email=a.get("contact_email") or turn.t("not_given")),
        turn.t(
            "review_channel",
            channel=turn.t(f"button_channel_{a['preferred_channel']}")
            if a.get("preferred_channel")
            else "-",
        ),
        turn.t("review_account_own" if a.get("own_account") else "review_account_borrowed"),
        "",
        turn.t("review_prompt"),
    ]
    return lines


def ask_review(turn: Turn) -> None:
    """The summary with an Edit button per answer and Submit."""
    edits = [turn.button(f"edit_{group}", f"edit:{group}") for group in EDIT_GROUPS]
    keyboard = keyboards.markup(keyboards.rows(edits, 3), [[turn.button("submit", "submit")]])
    turn.send("\n".join(summary_lines(turn)), keyboard)


async def on_review(turn: Turn, value: str) -> bool:
    """Edit a group of answers (then come back here), or file the report."""
    if value == "submit":
        await submit(turn)
        return True
    group = value.removeprefix("edit:")
    if value.startswith("edit:") and group in EDIT_GROUPS:
        turn.set(_editing=group)
        turn.goto(EDIT_GROUPS[group][0])
        return True
    return False


question(states.REVIEW, ask_review, on_choice=on_review)
