"""Typed days and times in every language, against a fixed now, and how moments are shown back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.i18n.languages import supported
from handlers.i18n.moments import Moment, UnclearMoment, parse_moment, show, show_moment
from handlers.texts import LRI, PDI, describe

LONDON = ZoneInfo("Europe/London")
# Sunday 22 November 2026, 20:00 in London (GMT, so also 20:00 UTC).
NOW = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)


def local(*args: int) -> datetime:
    """A London wall-clock time as an aware UTC moment."""
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


def read(typed: str, language: str, now: datetime = NOW, **options) -> Moment:
    return parse_moment(typed, language, now=now, zone=LONDON, **options)


def refused(typed: str, language: str, now: datetime = NOW, **options) -> UnclearMoment:
    with pytest.raises(UnclearMoment) as info:
        parse_moment(typed, language, now=now, zone=LONDON, **options)
    return info.value


# (typed, language, local wall clock it means, approximate)
ABSOLUTE = [
    ("yesterday 18:30", "en", (2026, 11, 21, 18, 30), False),
    ("21 November 6:30pm", "en", (2026, 11, 21, 18, 30), False),
    ("11/21 18:30", "en", (2026, 11, 21, 18, 30), False),
    ("yesterday around 10pm", "en", (2026, 11, 21, 22, 0), True),
    ("21 de noviembre 18:30", "es", (2026, 11, 21, 18, 30), False),
    ("ayer 18:30", "es", (2026, 11, 21, 18, 30), False),
    ("anoche a las 11", "es", (2026, 11, 21, 23, 0), False),
    ("21/11 18:30", "es", (2026, 11, 21, 18, 30), False),
    ("hier vers 22h", "fr", (2026, 11, 21, 22, 0), True),
    ("21 novembre à 18h30", "fr", (2026, 11, 21, 18, 30), False),
    ("samedi dernier à 18h", "fr", (2026, 11, 21, 18, 0), False),
    ("gestern um 18 Uhr", "de", (2026, 11, 21, 18, 0), False),
    ("21.11. 18:30", "de", (2026, 11, 21, 18, 30), False),
    ("gestern Abend um 8", "de", (2026, 11, 21, 20, 0), False),
    ("ieri alle 18:30", "it", (2026, 11, 21, 18, 30), False),
    ("21 novembre alle 18:30", "it", (2026, 11, 21, 18, 30), False),
    ("ontem às 18h30", "pt", (2026, 11, 21, 18, 30), False),
    ("21 de novembro 18h30", "pt", (2026, 11, 21, 18, 30), False),
    ("wczoraj o 18:30", "pl", (2026, 11, 21, 18, 30), False),
    ("21 listopada około 18:30", "pl", (2026, 11, 21, 18, 30), True),
    ("ieri la 18:30", "ro", (2026, 11, 21, 18, 30), False),
    ("aseară pe la 22:00", "ro", (2026, 11, 21, 22, 0), True),
    ("أمس 18:30", "ar", (2026, 11, 21, 18, 30), False),
    ("أمس الساعة ٦ مساءً", "ar", (2026, 11, 21, 18, 0), False),
    ("昨天晚上8点", "zh", (2026, 11, 21, 20, 0), False),
    ("11月21日 18:30", "zh", (2026, 11, 21, 18, 30), False),
    ("昨晚八点半左右", "zh", (2026, 11, 21, 20, 30), True),
]


@pytest.mark.parametrize(("typed", "language", "wall", "approximate"), ABSOLUTE)
def test_days_and_times_in_every_language(typed, language, wall, approximate):
    moment = read(typed, language)
    assert moment == Moment(local(*wall), approximate=approximate)


# (typed, language, how long ago)
RELATIVE = [
    ("2 hours ago", "en", timedelta(hours=2)),
    ("2h ago", "en", timedelta(hours=2)),
    ("hace 2 horas", "es", timedelta(hours=2)),
    ("il y a 2 heures", "fr", timedelta(hours=2)),
    ("vor 2 Stunden", "de", timedelta(hours=2)),
    ("vor 30 Minuten", "de", timedelta(minutes=30)),
    ("2 ore fa", "it", timedelta(hours=2)),
    ("há 2 horas", "pt", timedelta(hours=2)),
    ("2 godziny temu", "pl", timedelta(hours=2)),
    ("acum 2 ore", "ro", timedelta(hours=2)),
    ("منذ ساعتين", "ar", timedelta(hours=2)),
    ("2小时前", "zh", timedelta(hours=2)),
    ("两小时前", "zh", timedelta(hours=2)),
]


@pytest.mark.parametrize(("typed", "language", "ago"), RELATIVE)
def test_how_long_ago_in_every_language(typed, language, ago):
    assert read(typed, language) == Moment(NOW - ago, approximate=True)


def test_every_supported_language_is_tested():
    tested = {language for _, language, *_ in ABSOLUTE + RELATIVE}
    assert tested == set(supported())


def test_just_now_is_exact():
    assert read("just now", "en") == Moment(NOW)


def test_a_time_alone_is_today_or_the_night_before():
    assert read("18:30", "es").at == local(2026, 11, 22, 18, 30)
    assert read("21:30", "es").at == local(2026, 11, 21, 21, 30)  # after now: last night


def test_a_time_on_a_day_already_chosen():
    chosen = date(2026, 11, 20)
    assert read("18:30", "es", day=chosen).at == local(2026, 11, 20, 18, 30)
    assert read("ayer 18:30", "es", day=chosen).at == local(2026, 11, 21, 18, 30)


def test_across_midnight():
    half_past_midnight = local(2026, 11, 23, 0, 30)
    assert read("23:30", "fr", half_past_midnight).at == local(2026, 11, 22, 23, 30)
    assert read("hier 23h30", "fr", half_past_midnight).at == local(2026, 11, 22, 23, 30)
    assert read("il y a 2 heures", "fr", half_past_midnight).at == local(2026, 11, 22, 22, 30)
    assert refused("aujourd'hui 23h30", "fr", half_past_midnight).code == "when_future"


def test_clocks_going_forward_in_march():
    # Sunday 29 March 2026: at 01:00 GMT the clocks go to 02:00 BST.
    now = local(2026, 3, 29, 3, 30)
    assert now == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert read("2 hours ago", "en", now).at == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert read("00:30", "de", now).at == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert read("03:00", "de", now).at == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    gap = refused("01:30", "de", now)
    assert gap.code == "when_clock_gap"
    assert gap.params == {"day": date(2026, 3, 29), "time": time(1, 30)}
    assert "clocks went forward" in describe(gap, "en")


def test_clocks_going_back_in_october():
    # Sunday 25 October 2026: at 02:00 BST the clocks go back to 01:00 GMT.
    now = datetime(2026, 10, 25, 3, 0, tzinfo=UTC)  # 03:00 GMT
    assert read("00:30", "it", now).at == datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # BST
    assert read("02:30", "it", now).at == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)  # GMT
    assert read("3 ore fa", "it", now).at == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    repeat = refused("01:30", "it", now)
    assert repeat.code == "when_clock_repeat"
    assert "happened twice" in describe(repeat, "en")


@pytest.mark.parametrize(
    ("typed", "language", "code"),
    [
        ("tomorrow 10:00", "en", "when_future"),
        ("mañana 10:00", "es", "when_future"),
        ("in 2 hours", "en", "when_future"),
        ("25 de noviembre 10:00", "es", "when_future"),  # a slip, not last year's
        ("23:00", "de", "when_future"),  # with the day chosen as today, below
        ("21 Nov 2024 18:30", "en", "when_too_old"),
        ("asdf", "en", "when_unreadable"),
        ("le chat", "fr", "when_unreadable"),
        ("", "es", "when_unreadable"),
        ("x" * 500, "es", "when_unreadable"),
        ("vendredi 21/11 à 18h", "fr", "when_unreadable"),  # the 21st is a Saturday
        ("12", "en", "when_no_day"),
        ("march", "en", "when_no_day"),
        ("yesterday", "en", "when_no_time"),
        ("ayer por la noche", "es", "when_no_time"),
        ("vor 3 Tagen", "de", "when_no_time"),
        ("31/02 10:00", "es", "when_no_such_date"),
        ("25:00", "es", "when_no_such_time"),
        ("13pm", "en", "when_no_such_time"),
        ("5/6 10:00", "en", "when_ambiguous_date"),
        ("5/6 10:00", "zh", "when_ambiguous_date"),
        ("at 6", "en", "when_ambiguous_hour"),
        ("6:30", "en", "when_ambiguous_hour"),
        ("a las 6", "es", "when_ambiguous_hour"),
        ("8点", "zh", "when_ambiguous_hour"),
        ("sunday 18:00", "en", "when_ambiguous_weekday"),
        ("domingo 18:00", "es", "when_ambiguous_weekday"),
        ("niedziela 18:00", "pl", "when_ambiguous_weekday"),
    ],
)
def test_refused_never_guessed(typed, language, code):
    options = {"day": date(2026, 11, 22)} if typed == "23:00" else {}
    error = refused(typed, language, **options)
    assert error.code == code
    for shown_in in (language, "en"):
        assert describe(error, shown_in)  # every refusal has words in the catalogue


def test_day_month_order_is_the_languages():
    assert read("5/6 10:00", "es").at == local(2026, 6, 5, 10, 0)
    assert read("5/6 10:00", "de").at == local(2026, 6, 5, 10, 0)
    ambiguous = refused("5/6 10:00", "en")
    first, second = date(2026, 6, 5), date(2026, 5, 6)
    assert ambiguous.params == {"typed": "5/6", "first": first, "second": second}
    words = describe(ambiguous, "en")
    assert words.startswith("“5/6” could be Fri, 5 Jun 2026 or Wed, 6 May 2026.")


def test_a_twelve_hour_clock_needs_its_half_of_the_day():
    assert read("6:30pm", "en").at == local(2026, 11, 22, 18, 30)
    assert read("06:30", "en").at == local(2026, 11, 22, 6, 30)
    assert read("9:15", "fr").at == local(2026, 11, 22, 9, 15)  # a 24-hour clock
    hour = refused("at 6", "en")
    assert hour.params == {"morning": time(6), "evening": time(18)}
    assert describe(hour, "es") == "¿Fue a las 6:00 o a las 18:00? Escríbalo así: <i>18:00</i>."


def test_without_a_time_when_none_is_needed():
    moment = read("ayer", "es", need_time=False)
    assert moment == Moment(local(2026, 11, 21, 12, 0), approximate=True, time_known=False)
    today = read("hoy", "es", now=local(2026, 11, 22, 9, 0), need_time=False)
    assert today.at == local(2026, 11, 22, 9, 0)  # not a midday still to come


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        parse_moment("18:30", "en", now=datetime(2026, 11, 22, 20, 0), zone=LONDON)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40), st.sampled_from(supported()))
def test_anything_typed_is_read_or_refused_never_in_the_future(typed, language):
    try:
        moment = read(typed, language)
    except UnclearMoment as error:
        assert describe(error, language)
    else:
        assert moment.at <= NOW + timedelta(minutes=5)
        assert moment.at.tzinfo is not None


def test_shown_back_in_the_victims_language_and_time_zone():
    summer = datetime(2026, 7, 21, 17, 30, tzinfo=UTC)  # 18:30 BST
    assert show_moment(summer, "en", LONDON) == "Tue, 21 Jul 2026, 18:30"
    assert show_moment(summer, "es", LONDON) == "mar, 21 jul 2026, 18:30"
    assert show_moment(summer, "de", LONDON) == "Di., 21. Juli 2026, 18:30"
    assert show_moment(summer, "zh", LONDON) == "2026年7月21日周二 18:30"
    assert show_moment(summer, "en", LONDON, approximate=True) == "about Tue, 21 Jul 2026, 18:30"
    assert show_moment(summer, "en", LONDON, time_known=False) == (
        "Tue, 21 Jul 2026 (time not known)"
    )
    assert show(Moment(summer, approximate=True), "es", LONDON) == "hacia mar, 21 jul 2026, 18:30"


def test_arabic_moments_keep_their_digits_left_to_right():
    shown = show_moment(datetime(2026, 7, 21, 17, 30, tzinfo=UTC), "ar", LONDON)
    assert "الثلاثاء" in shown
    assert f"{LRI}2026{PDI}" in shown or "٢٠٢٦" in shown


# Every language refuses a moment in the future, nonsense and an ambiguous one (today's own
# weekday), each with words in the language: (language, future, nonsense, ambiguous)
REFUSED_IN_EVERY_LANGUAGE = [
    ("en", "tomorrow 10:00", "the cat", "sunday 18:00"),
    ("es", "mañana 10:00", "el gato", "domingo 18:00"),
    ("fr", "demain 10h", "le chat", "dimanche 18h"),
    ("de", "morgen 10:00", "Katze", "Sonntag 18:00"),
    ("it", "domani 10:00", "il gatto", "domenica 18:00"),
    ("pt", "amanhã 10:00", "o gato", "domingo 18:00"),
    ("pl", "jutro 10:00", "kot", "niedziela 18:00"),
    ("ro", "mâine 10:00", "pisica", "duminică 18:00"),
    ("ar", "غدًا 10:00", "قطة", "الأحد 18:00"),
    ("zh", "明天10点", "猫", "星期天18:00"),
]


@pytest.mark.parametrize(("language", "future", "nonsense", "ambiguous"), REFUSED_IN_EVERY_LANGUAGE)
def test_every_language_refuses_the_future_nonsense_and_the_ambiguous(
    language, future, nonsense, ambiguous
):
    codes = {typed: refused(typed, language).code for typed in (future, nonsense, ambiguous)}
    assert codes == {
        future: "when_future",
        nonsense: "when_unreadable",
        ambiguous: "when_ambiguous_weekday",
    }
    for typed in codes:
        # The reason is in the victim's language: it is not the English one.
        error = refused(typed, language)
        assert language == "en" or describe(error, language) != describe(error, "en")


def test_every_supported_language_has_its_refusals_tested():
    assert {language for language, *_ in REFUSED_IN_EVERY_LANGUAGE} == set(supported())
