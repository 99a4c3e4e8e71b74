"""A pin that cannot be a place (off the map, or 0,0) is refused wherever a pin is taken:
the victim is told why and asked again, and nothing of it is stored, exported or plotted."""

from __future__ import annotations

import pytest

from handlers.conversation import states
from models.register import Register
from tests.followup_fixtures import file_report
from tests.handlers.conftest import pin, press

IMPOSSIBLE = [
    (999, -999999, "not on the map (latitude 999)"),
    (51.5, 200, "not on the map (longitude 200)"),
    (0, 0, "0, 0, in the ocean"),
]
TRACKING = {states.TRACKED: press("Yes, I can see it")}
# step -> (what was stored by a good pin, the answers a pin sets)
PIN_STEPS = {
    states.WHERE: ("incident_lat", "incident_lon"),
    states.WHERE_NOTE: ("incident_lat", "incident_lon"),  # a second pin corrects the first
    states.TRACKED_WHERE: ("tracked_lat", "tracked_lon"),
}


@pytest.mark.parametrize("step", list(PIN_STEPS))
@pytest.mark.parametrize(("lat", "lon", "why"), IMPOSSIBLE)
async def test_the_conversation_refuses_an_impossible_pin_and_asks_again(
    victim, step: str, lat: float, lon: float, why: str
):
    instead = {states.WHERE: pin(51.5142, -0.1494), **TRACKING}
    await victim.walk(step, **instead)
    before = await victim.answers()

    refused = await victim.do(pin(lat, lon))

    assert why in refused[0].text
    assert len(refused) == 2  # the reason, then the same question again
    assert await victim.step() == step
    assert await victim.answers() == before
    await victim.do(pin(51.5226, -0.1571))  # a real pin is then taken
    lat_name, lon_name = PIN_STEPS[step]
    assert ((await victim.answers())[lat_name], (await victim.answers())[lon_name]) == (
        51.5226,
        -0.1571,
    )


@pytest.mark.parametrize(("lat", "lon", "why"), IMPOSSIBLE)
async def test_following_a_report_refuses_an_impossible_tracked_pin(
    register: Register, make_user, lat: float, lon: float, why: str
):
    filed = await file_report(register)
    user = make_user(user_id=8101)
    await user.send(f"/status {filed.reference} {filed.access_code}")
    await user.press("📍 Add tracked location")

    [refused] = await user.send_location(lat, lon)

    assert why in refused.text
    assert [label for label, _ in refused.buttons] == ["Cancel"]
    [when] = await user.send_location(51.5155, -0.0922)  # still waiting for the location
    assert [label for label, _ in when.buttons] == ["Just now", "About an hour ago", "Cancel"]
    await user.press("Just now")
    report = await register.reports.get(filed.reference)
    assert report is not None
    assert (report.tracked_lat, report.tracked_lon) == (51.5155, -0.0922)
    assert [entry["lat"] for entry in report.get("tracked_history")] == [51.5155]
