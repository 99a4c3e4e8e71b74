"""What a victim sees of their report: status, device, history, and the buttons."""

from __future__ import annotations

from datetime import datetime, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.context import HandlerConfig
from handlers.followup.access import callback
from handlers.i18n.moments import show_moment
from handlers.texts import Html, escape, text
from models.services.followup import MAX_IMEIS
from models.services.reports import ReportView
from models.values.crime import FORCES
from models.values.imei import Imei
from models.values.loss import LossKind
from models.values.statuses import OPEN, Status, allowed_next

MAKES = {"apple": "Apple", "samsung": "Samsung", "google": "Google"}
MAX_PART = 120
HISTORY_SHOWN = 10

# Button actions (callback data "f:<action>:<token>").
SUBSCRIBE = "sub"
UNSUBSCRIBE = "uns"
REFRESH = "ref"
ADD_IMEI = "imei"
ADD_LOCATION = "loc"
WITHDRAW = "wd"
WITHDRAW_YES = "wdy"
WITHDRAW_NO = "wdn"
IMEI_YES = "iy"
IMEI_NO = "in"
CANCEL = "x"
TIME_NOW = "t0"
TIME_HOUR = "t1"
ADD_CRIME = "cr"
FORCE_UNKNOWN = "fu"


def when(moment: datetime, language: str | None, zone: tzinfo) -> Html:
    """A moment as victims read it: in their language and the register's time zone."""
    return Html(escape(show_moment(moment, language, zone)))


def status_label(status: Status, language: str | None) -> str:
    """A status in plain words."""
    return text(f"followup.status_{status.value}", language)


def device(report: ReportView) -> str:
    """Make, model and colour as the victim gave them (escaped)."""
    parts = [MAKES.get(report.make, "")]
    # Capped, so that the view stays far below Telegram's 4,096 characters whatever was typed.
    parts += [str(report.get(name) or "")[:MAX_PART] for name in ("model", "colour")]
    return escape(", ".join(part.strip() for part in parts if part and part.strip()) or "-")


def can_add_crime(report: ReportView) -> bool:
    """Whether the victim may add the crime reference: an open report of a crime."""
    return report.status in OPEN and report.loss_kind != LossKind.LOST


def crime_line(report: ReportView, language: str | None) -> str | None:
    """The crime reference and force, or a nudge to add it; None for a lost phone."""
    if report.crime_reference:
        force = FORCES.get(report.police_force or "")
        return text(
            "followup.view_crime",
            language,
            crime_reference=report.crime_reference,
            force=f"({force})" if force else "",
        ).rstrip()
    return text("followup.view_no_crime", language) if can_add_crime(report) else None


def can_add_imei(report: ReportView) -> bool:
    """Whether the victim may add an IMEI now."""
    return report.status in OPEN and len(report.imeis) < MAX_IMEIS


def status_text(
    report: ReportView, *, subscribed: bool, language: str | None, config: HandlerConfig
) -> str:
    """The status view: no contact details, only what the victim said about the phone."""
    police = config.non_emergency_number
    zone = config.zone
    lines = [
        text("followup.view_title", language, reference=report.reference),
        text("followup.view_status", language, status=status_label(report.status, language)),
        text(f"followup.about_{report.status.value}", language, police=police),
        "",
        text("followup.view_device", language, device=Html(device(report))),
    ]
    if report.imeis:
        masked = ", ".join(Imei(digits).masked for digits in report.imeis)
        lines.append(text("followup.view_imeis", language, imeis=masked))
    else:
        lines.append(text("followup.view_no_imei", language))
    if report.tracked_at is not None:
        lines.append(
            text("followup.view_tracked", language, when=when(report.tracked_at, language, zone))
        )
    crime = crime_line(report, language)
    if crime is not None:
        lines.append(crime)
    lines += ["", text("followup.view_history", language)]
    # Staff notes and who made a change are not the victim's to read: status and time only.
    for entry in report.history[-HISTORY_SHOWN:]:
        label = status_label(entry.status, language)
        lines.append(
            text(
                "followup.view_history_line",
                language,
                when=when(entry.changed_at, language, zone),
                status=label,
            )
        )
    lines.append("")
    key = "followup.view_subscribed" if subscribed else "followup.view_not_subscribed"
    lines.append(text(key, language))
    return "\n".join(lines)


def status_keyboard(
    report: ReportView, *, subscribed: bool, token: str, language: str | None
) -> InlineKeyboardMarkup:
    """The status view's buttons: updates on or off, complete the report, withdraw, refresh."""

    def button(key: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text(f"followup.button_{key}", language), callback_data=callback(action, token)
        )

    rows = [[button("unsubscribe", UNSUBSCRIBE) if subscribed else button("subscribe", SUBSCRIBE)]]
    complete = []
    if can_add_imei(report):
        complete.append(button("add_imei", ADD_IMEI))
    if report.status in OPEN:
        complete.append(button("add_location", ADD_LOCATION))
    if complete:
        rows.append(complete)
    if can_add_crime(report):
        rows.append([button("add_crime", ADD_CRIME)])
    last = [button("refresh", REFRESH)]
    if Status.WITHDRAWN in allowed_next(report.status):
        last.insert(0, button("withdraw", WITHDRAW))
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def withdraw_keyboard(token: str, language: str | None) -> InlineKeyboardMarkup:
    """Confirm or refuse withdrawing."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("followup.button_withdraw_yes", language),
                    callback_data=callback(WITHDRAW_YES, token),
                ),
                InlineKeyboardButton(
                    text("followup.button_withdraw_no", language),
                    callback_data=callback(WITHDRAW_NO, token),
                ),
            ]
        ]
    )


def single(key: str, action: str, token: str, language: str | None) -> InlineKeyboardMarkup:
    """A keyboard with one button."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text(key, language), callback_data=callback(action, token))]]
    )


def pair(
    first: tuple[str, str], second: tuple[str, str], token: str, language: str | None
) -> InlineKeyboardMarkup:
    """A keyboard with two buttons side by side, then Cancel."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(text(key, language), callback_data=callback(action, token))
                for key, action in (first, second)
            ],
            [
                InlineKeyboardButton(
                    text("followup.button_cancel", language),
                    callback_data=callback(CANCEL, token),
                )
            ],
        ]
    )
