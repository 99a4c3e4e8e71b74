"""The victim adds the police's crime reference and force through /status."""

from __future__ import annotations

import json

from handlers.texts import text
from models.register import Register
from models.values.statuses import Status
from tests.factories import audit_events
from tests.followup_fixtures import file_report


async def open_status(make_user, filed, user_id: int = 8001, language: str = "en"):
    """A user who proved access with /status; returns (user, the status view)."""
    user = make_user(user_id=user_id, language_code=language)
    [view] = await user.send(f"/status {filed.reference} {filed.access_code}")
    return user, view


async def test_the_crime_reference_and_force_are_added_and_shown(
    register: Register, make_user
) -> None:
    filed = await file_report(register, loss_kind="theft_from_person")
    user, view = await open_status(make_user, filed)
    assert "Crime reference: <i>not added yet</i>" in view.text
    [ask] = await user.press("👮 Add crime reference")
    assert "<b>crime reference number</b>" in ask.text
    [ours] = await user.send(filed.reference)
    assert "this report's own reference" in ours.text
    [short] = await user.send("12")
    assert "too short" in short.text
    [force] = await user.send(" 1234567 / 24 ")
    assert "Which police force" in force.text
    assert [label for label, _ in force.buttons] == ["I don't know", "Cancel"]
    [unknown] = await user.send("Atlantis Yard")
    assert "police force is not known" in unknown.text
    [done] = await user.send("the Met")
    assert done.text == (
        "Thank you. Crime reference <code>1234567 / 24</code> (Metropolitan Police Service) is "
        f"added to report {filed.reference}."
    )
    report = await register.reports.get(filed.reference)
    assert (report.crime_reference, report.police_force) == ("1234567 / 24", "metropolitan")
    (event,) = await audit_events(register.db, "police_reference")
    assert (event.actor, json.loads(event.details)["channel"]) == ("victim", "telegram")
    [view] = await user.send(f"/status {filed.reference} {filed.access_code}")
    assert "Crime reference: <code>1234567 / 24</code> (Metropolitan Police Service)" in view.text


async def test_without_the_force_and_in_the_report_s_language(register: Register, make_user):
    filed = await file_report(register, loss_kind="robbery", language="es")
    user, view = await open_status(make_user, filed, language="es")
    assert text("followup.view_no_crime", "es") in view.text
    await user.press(text("followup.button_add_crime", "es"))
    [force] = await user.send("1234567/24")
    assert force.text == text("followup.ask_force", "es")
    [done] = await user.press("No lo sé")
    assert done.text == (
        f"Gracias. La referencia del delito <code>1234567/24</code> se ha añadido a la denuncia "
        f"{filed.reference}."
    )
    report = await register.reports.get(filed.reference)
    assert (report.crime_reference, report.police_force) == ("1234567/24", None)


async def test_cancel_stores_nothing(register: Register, make_user) -> None:
    filed = await file_report(register)
    user, _ = await open_status(make_user, filed)
    await user.press("👮 Add crime reference")
    await user.send("1234567/24")
    [cancelled] = await user.press("Cancel")
    assert cancelled.text == "OK, nothing was changed."
    assert (await register.reports.get(filed.reference)).crime_reference is None
    assert await audit_events(register.db, "police_reference") == []


async def test_a_lost_phone_or_an_ended_report_is_not_offered_it(
    register: Register, make_user
) -> None:
    lost = await file_report(register, loss_kind="lost", theft_method="lost")
    _, view = await open_status(make_user, lost)
    assert "Crime reference" not in view.text
    assert "👮 Add crime reference" not in [label for label, _ in view.buttons]
    ended = await file_report(register)
    user, view = await open_status(make_user, ended, user_id=8002)
    await register.reports.change_status(ended.reference, Status.WITHDRAWN, actor="victim")
    await user.press("👮 Add crime reference", view)
    assert (await register.reports.get(ended.reference)).crime_reference is None
