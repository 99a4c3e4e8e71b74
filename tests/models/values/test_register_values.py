"""What police record, places and coordinates: the value checks the conversation and staff use."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.texts import LOCALES_DIR
from models.errors import RegisterError
from models.values.coordinates import GREATER_LONDON, Area, BadCoordinates, check_point
from models.values.crime import (
    FORCES,
    BadCrimeReference,
    PoliceForce,
    UnknownPoliceForce,
    normalise_crime_reference,
)
from models.values.freetext import MeaninglessText, require_words
from models.values.loss import LossKind, UnknownLossKind, loss_kind_of_method
from models.values.placename import (
    place_key,
    place_keys,
    postcode_district,
    postcode_in,
    postcode_key,
)
from models.values.reference import Reference
from models.values.window import BadWindow, IncidentWindow

NOW = datetime(2026, 3, 1, 18, 40, tzinfo=UTC)


def codes(error: pytest.ExceptionInfo[RegisterError]) -> tuple[str, dict]:
    return error.value.code, error.value.params


# --- kind of loss -----------------------------------------------------------------------------


def test_a_lost_phone_is_not_a_crime_and_a_robbery_is_urged_to_the_police() -> None:
    assert not LossKind.LOST.is_crime and not LossKind.LOST.urges_police_report
    assert (
        LossKind.THEFT_FROM_PERSON.is_crime and not LossKind.THEFT_FROM_PERSON.urges_police_report
    )
    assert LossKind.ROBBERY.is_crime and LossKind.ROBBERY.urges_police_report


@pytest.mark.parametrize(
    ("method", "kind"),
    [
        ("snatched_moped", LossKind.THEFT_FROM_PERSON),
        ("pickpocket", LossKind.THEFT_FROM_PERSON),
        ("force", LossKind.ROBBERY),
        ("lost", LossKind.LOST),
        (None, None),
    ],
)
def test_the_conversations_methods_map_onto_kinds_of_loss(method, kind) -> None:
    assert loss_kind_of_method(method) is kind


def test_kinds_of_loss_parse_forgivingly_and_refuse_with_a_code() -> None:
    assert LossKind.parse(" Theft from person ".replace("person", "the person")) is (
        LossKind.THEFT_FROM_PERSON
    )
    assert LossKind.parse("ROBBERY") is LossKind.ROBBERY
    with pytest.raises(UnknownLossKind) as refused:
        LossKind.parse("burglary")
    assert refused.value.code == "loss_kind_unknown"
    assert "robbery" in refused.value.params["allowed"]


# --- free text --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["😀😀", "12345", "!!! ...", "📱 15", "\u200b\u200b", "  "])
def test_text_without_a_letter_is_refused_with_a_code(text: str) -> None:
    with pytest.raises(MeaninglessText) as refused:
        require_words(text, field="place")
    assert refused.value.code in {"text_no_words", "text_empty"}
    assert refused.value.params["field"] == "place"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("iPhone 15", "iPhone 15"),
        ("  S23   Ultra ", "S23 Ultra"),
        ("Oxford Circus 🙁", "Oxford Circus 🙁"),
        ("東京駅", "東京駅"),
        ("محطة", "محطة"),
    ],
)
def test_text_with_words_is_kept_tidied(text: str, kept: str) -> None:
    assert require_words(text, field="model") == kept


def test_overlong_text_is_refused() -> None:
    with pytest.raises(MeaninglessText) as refused:
        require_words("a" * 201, field="place")
    assert codes(refused) == ("text_too_long", {"field": "place", "limit": 200})


# --- coordinates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "code"),
    [
        (91, 200, "coordinates_latitude_range"),
        (51.5, 200, "coordinates_longitude_range"),
        (-90.5, 0.1, "coordinates_latitude_range"),
        (0, 0, "coordinates_null_island"),
        (float("nan"), 0.1, "coordinates_not_numbers"),
        ("north", 0.1, "coordinates_not_numbers"),
    ],
)
def test_impossible_coordinates_are_refused(lat, lon, code: str) -> None:
    with pytest.raises(BadCoordinates) as refused:
        check_point(lat, lon, GREATER_LONDON)
    assert refused.value.code == code


def test_a_point_outside_the_service_area_is_a_warning_not_a_refusal() -> None:
    assert not check_point(51.5142, -0.1494, GREATER_LONDON).outside_service_area
    manchester = check_point(53.4808, -2.2426, GREATER_LONDON)
    assert manchester.outside_service_area and (manchester.lat, manchester.lon) == (
        53.4808,
        -2.2426,
    )
    assert not check_point(53.4808, -2.2426, None).outside_service_area


def test_areas_parse_and_refuse_reversed_corners() -> None:
    assert Area.parse(str(GREATER_LONDON)) == GREATER_LONDON
    with pytest.raises(ValueError):
        Area.parse("52,0,51,1")
    with pytest.raises(ValueError):
        Area.parse("51,0,52")


# --- crime reference and force ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (" 1234567/24 ", "1234567/24"),
        ("nfrc24010012345", "NFRC24010012345"),
        ("CAD  4321 / 01mar", "CAD 4321 / 01MAR"),
        ("01/123456/26", "01/123456/26"),
        ("AB\u20131234\u200b5", "AB-12345"),
    ],
)
def test_crime_references_are_checked_loosely(typed: str, kept: str) -> None:
    assert normalise_crime_reference(typed) == kept


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "crime_reference_empty"),
        ("12", "crime_reference_too_short"),
        ("ABCDEF", "crime_reference_too_short"),
        ("1234;DROP", "crime_reference_character"),
        ("1" * 31, "crime_reference_too_long"),
    ],
)
def test_bad_crime_references_are_refused_with_a_code(typed: str, code: str) -> None:
    with pytest.raises(BadCrimeReference) as refused:
        normalise_crime_reference(typed)
    assert refused.value.code == code


def test_our_own_reference_is_not_taken_for_a_crime_reference() -> None:
    ours = str(Reference.generate())
    with pytest.raises(BadCrimeReference) as refused:
        normalise_crime_reference(ours.lower())
    assert refused.value.code == "crime_reference_is_ours"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Met", "metropolitan"),
        ("Metropolitan Police Service", "metropolitan"),
        ("the met", "metropolitan"),
        ("BTP", "btp"),
        ("British Transport Police", "btp"),
        ("City of London Police", "city-of-london"),
        ("Police Scotland", "scotland"),
        ("Avon & Somerset Constabulary", "avon-somerset"),
        ("dyfed powys", "dyfed-powys"),
        ("west-midlands", "west-midlands"),
    ],
)
def test_police_forces_are_known_by_code_name_and_short_name(typed: str, code: str) -> None:
    assert PoliceForce.parse(typed).code == code


def test_every_force_is_found_by_its_own_name_and_code() -> None:
    for code, name in FORCES.items():
        assert PoliceForce.parse(name).code == code
        assert PoliceForce.parse(code).code == code


def test_an_unknown_force_is_refused() -> None:
    with pytest.raises(UnknownPoliceForce) as refused:
        PoliceForce.parse("Gotham City Police")
    assert refused.value.code == "police_force_unknown"


# --- time window ------------------------------------------------------------------------------


def test_a_window_between_two_times_and_a_whole_day() -> None:
    window = IncidentWindow.between(NOW - timedelta(minutes=40), NOW - timedelta(minutes=10))
    assert not window.is_moment
    assert window.midpoint == NOW - timedelta(minutes=25)
    london = ZoneInfo("Europe/London")
    yesterday = IncidentWindow.day(date(2026, 6, 30), london)
    assert yesterday.earliest == datetime(2026, 6, 29, 23, 0, tzinfo=UTC)
    assert yesterday.latest == datetime(2026, 6, 30, 22, 59, 59, tzinfo=UTC)
    assert IncidentWindow.at(NOW).is_moment


def test_bad_windows_are_refused_with_codes() -> None:
    with pytest.raises(BadWindow) as reversed_window:
        IncidentWindow.between(NOW, NOW - timedelta(hours=1))
    assert reversed_window.value.code == "window_reversed"
    with pytest.raises(BadWindow) as wide:
        IncidentWindow.between(NOW - timedelta(days=40), NOW)
    assert codes(wide) == ("window_too_wide", {"days": 31})
    with pytest.raises(BadWindow) as future:
        IncidentWindow.at(NOW + timedelta(hours=1)).check_not_future(NOW)
    assert future.value.code == "window_in_future"


def test_a_window_running_past_now_ends_now() -> None:
    window = IncidentWindow.between(NOW - timedelta(minutes=10), NOW + timedelta(minutes=20))
    assert window.check_not_future(NOW) == IncidentWindow(NOW - timedelta(minutes=10), NOW)


# --- place names and postcodes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Bond Street station", "bond st"),
        ("BOND STREET", "Bond St."),
        ("Oxford Circus Station", "oxford circus"),
        ("Saint Pancras", "St Pancras"),
        ("King's Cross", "Kings Cross"),
        ("Café Royal", "cafe royal"),
        ("Elephant & Castle", "elephant and castle"),
        ("Abbey Road", "abbey rd"),
        ("The Strand, London", "Strand"),
    ],
)
def test_place_names_meet_forgivingly(a: str, b: str) -> None:
    assert place_key(a) == place_key(b)


def test_st_may_mean_station_but_street_does_not() -> None:
    assert "oxford circus" in place_keys("Oxford Circus st")
    assert place_keys("Oxford Street") == ["oxford st"]


@pytest.mark.parametrize("typed", ["SW1A 1AA", "sw1a1aa", " Sw1A  1aA ", "SW1A\u00a01AA"])
def test_postcodes_with_or_without_the_space(typed: str) -> None:
    assert postcode_key(typed) == "SW1A1AA"


def test_postcodes_inside_text_and_partial_postcodes() -> None:
    assert postcode_in("outside 12 Oxford St, W1D 1BS, by the bank") == "W1D1BS"
    assert postcode_in("nothing here") is None
    assert postcode_district("w1d") == "W1D"
    assert postcode_district("E1") == "E1"
    assert postcode_district("Oxford") is None
    assert postcode_key("W1D") is None


@given(st.text(max_size=80))
def test_place_keys_never_fail_and_stay_short(text: str) -> None:
    for key in place_keys(text):
        assert key and len(key) <= 128 and key == key.casefold()


# --- catalogues -------------------------------------------------------------------------------

CODES = [
    "loss_kind_unknown",
    "text_empty",
    "text_too_long",
    "text_no_words",
    "coordinates_not_numbers",
    "coordinates_latitude_range",
    "coordinates_longitude_range",
    "coordinates_null_island",
    "crime_reference_empty",
    "crime_reference_too_long",
    "crime_reference_character",
    "crime_reference_too_short",
    "crime_reference_is_ours",
    "police_force_unknown",
    "window_reversed",
    "window_too_wide",
    "window_in_future",
]


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_refusal_has_words_in_each_language(language: str) -> None:
    with (LOCALES_DIR / language / "errors.toml").open("rb") as handle:
        catalogue = tomllib.load(handle)
    assert set(CODES) <= set(catalogue)


@given(st.text(max_size=60))
def test_crime_references_are_kept_tidy_or_refused_with_a_code(text: str) -> None:
    try:
        kept = normalise_crime_reference(text)
    except BadCrimeReference as refused:
        assert refused.code.startswith("crime_reference_")
    else:
        assert kept == " ".join(kept.split()) and kept == kept.upper()
        assert 4 <= len(kept) <= 30 and sum(ch.isdigit() for ch in kept) >= 3


@given(
    area=st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]?", fullmatch=True),
    inward=st.from_regex(r"[0-9][A-Z]{2}", fullmatch=True),
    gap=st.sampled_from(["", " ", "  "]),
    lower=st.booleans(),
)
def test_any_postcode_is_found_with_or_without_its_space(
    area: str, inward: str, gap: str, lower: bool
) -> None:
    typed = f"{area}{gap}{inward}"
    assert postcode_key(typed.lower() if lower else typed) == area + inward
