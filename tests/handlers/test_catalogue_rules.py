"""Rules every catalogue keeps, in every language: plural forms, HTML, lengths, right to left.

These read every catalogue there is, so a new language (or a new key) is checked as soon as it
is added; see docs/languages.md.
"""

from __future__ import annotations

import re
import string
import tomllib

import pytest
from babel import Locale
from dateparser.languages.loader import default_loader

from handlers.i18n import formats
from handlers.i18n.languages import (
    LOCALES_DIR,
    available,
    is_rtl,
    language,
    offered,
    own_name,
    resolve,
    supported,
)
from handlers.i18n.platforms import KINDS, platform_kind, platform_words
from handlers.texts import FSI, LRI, MAX_MESSAGE_LENGTH, PDI, RLI, catalogue, describe, text
from models.values.imei import Imei, InvalidImei
from models.values.phone import InvalidPhone, PhoneNumber
from models.values.reference import (
    InvalidAccessCode,
    InvalidReference,
    Reference,
    normalise_access_code,
    parse_deep_link_payload,
)
from models.values.statuses import UnknownStatus, parse_status
from tests.handlers.conftest import LANGUAGE_NAMES, html_problems

MAX_BUTTON = 40
LONG = 200  # characters in each parameter when checking a message's length
# Files whose keys and parameters this machinery owns: every language that has one must have the
# same keys and parameters as English.
OWN_FILES = ("errors", "moments", "platform", "notifications")
# Named like a button but shown as an alert, not on a button.
NOT_LABELS = {"staff.button_expired"}


def every_text() -> list[tuple[str, str, str, str]]:
    """(language, key, plural form or "", template) for every text of every catalogue."""
    found = []
    for code in available():
        for key, value in catalogue(code).items():
            forms = value.items() if isinstance(value, dict) else [("", value)]
            found += [(code, key, form, template) for form, template in forms]
    return found


def parameters(template: str) -> set[str]:
    return {
        match.group("named") or match.group("braced")
        for match in string.Template.pattern.finditer(template)
        if match.group("named") or match.group("braced")
    }


def filled(template: str, value: str) -> str:
    return string.Template(template).safe_substitute(dict.fromkeys(parameters(template), value))


TEXTS = every_text()
IDS = [f"{code}:{key}{'.' + form if form else ''}" for code, key, form, _ in TEXTS]


# --- the languages -----------------------------------------------------------------------------


def test_the_ten_languages_with_their_own_names():
    assert supported() == tuple(LANGUAGE_NAMES)
    assert {code: own_name(code) for code in supported()} == LANGUAGE_NAMES
    assert [code for code in supported() if is_rtl(code)] == ["ar"]


@pytest.mark.parametrize("code", supported())
def test_every_language_has_babel_and_dateparser_behind_it(code):
    entry = language(code)
    assert Locale.parse(entry.babel).language == code
    assert entry.dateparser in default_loader.get_locale_map()
    assert entry.telegram == code
    assert formats.plural_categories(code) >= {"other"}


def test_every_catalogue_folder_is_a_listed_language():
    folders = {path.name for path in LOCALES_DIR.iterdir() if (path / "common.toml").is_file()}
    assert folders <= set(supported())
    assert available()[0] == "en"


@pytest.mark.parametrize(
    ("telegram", "expected"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("es-419", "es"),
        ("pt-br", "pt"),
        ("pt_PT", "pt"),
        ("zh-hans", "zh"),
        ("zh-cn", "zh"),
        ("zh-Hans-CN", "zh"),
        ("ar", "ar"),
        ("ro-MD", "ro"),
        ("mo", "ro"),
        ("nb", None),
        ("tr", None),
        ("", None),
        (None, None),
    ],
)
def test_a_telegram_language_code_means_one_of_ours_or_none(telegram, expected):
    assert resolve(telegram, among=supported()) == expected


def test_only_languages_with_a_catalogue_are_offered_the_accounts_first():
    assert resolve("fr-FR", among=("en", "es")) is None
    assert offered("es-MX")[0] == "es"
    assert offered("es-MX")[1:] == [code for code in available() if code != "es"]
    assert offered(None) == list(available())
    assert offered("tr") == list(available())


# --- the texts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "key", "form", "template"), TEXTS, ids=IDS)
def test_valid_telegram_html_and_not_too_long(code, key, form, template):
    short = filled(template, "x")
    assert html_problems(short) == [], short
    long = filled(template, "y" * LONG)
    assert len(long) <= MAX_MESSAGE_LENGTH


@pytest.mark.parametrize(("code", "key", "form", "template"), TEXTS, ids=IDS)
def test_buttons_are_short_enough_for_a_phone(code, key, form, template):
    if key.rsplit(".", 1)[-1].startswith("button_") and key not in NOT_LABELS:
        assert len(filled(template, "x")) <= MAX_BUTTON
        assert "<" not in template


@pytest.mark.parametrize("code", available())
def test_plural_forms_are_complete_for_the_languages_rules(code):
    categories = formats.plural_categories(code)
    english = catalogue("en")
    for key, value in catalogue(code).items():
        if isinstance(value, dict):
            assert set(value) == categories, f"{code}:{key} has {sorted(value)}"
        elif isinstance(english.get(key), dict):
            # A language with one form ("other" only) may give a plain text.
            assert categories == {"other"}, f"{code}:{key} needs plural forms"


@pytest.mark.parametrize("code", [code for code in available() if code != "en"])
@pytest.mark.parametrize("name", OWN_FILES)
def test_translations_of_these_files_have_the_same_keys_and_parameters(code, name):
    path = LOCALES_DIR / code / f"{name}.toml"
    if not path.is_file():
        pytest.skip(f"no {code}/{name}.toml yet: English is shown meanwhile")
    english = {key: value for key, value in catalogue("en").items() if key.startswith(name + ".")}
    theirs = {key: value for key, value in catalogue(code).items() if key.startswith(name + ".")}
    assert set(theirs) == set(english)
    for key, value in english.items():
        wanted = set().union(*(parameters(v) for v in _forms(value)))
        for form in _forms(theirs[key]):
            assert parameters(form) == wanted, key


def _forms(value: str | dict[str, str]) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def test_a_plural_table_is_chosen_by_count_with_the_languages_rules():
    assert "that is 1 digit." in text("errors.imei_length", "en", count=1)
    assert "that is 5 digits." in text("errors.imei_length", "en", count=5)
    assert "that is 5,000 digits." in text("errors.imei_length", "en", count=5000)
    assert "ha escrito 1 cifra." in text("errors.imei_length", "es", count=1)
    assert "ha escrito 1.000.000 de cifras." in text("errors.imei_length", "es", count=1_000_000)
    with pytest.raises(KeyError, match="count"):
        text("errors.imei_length", "en")


def test_numbers_dates_and_times_are_written_in_the_language():
    assert text("errors.imei_check_digit", "en", expected=7).count("should be 7") == 1
    assert "12.345" in text("errors.access_code_shape", "es", length=12345, example="K")


# --- right to left -----------------------------------------------------------------------------

_LTR = re.compile(r"[A-Za-z0-9]")


def unisolated_ltr(rendered: str) -> list[str]:
    """Latin letters and digits of RENDERED that are not inside a left-to-right isolate."""
    outside, depth = [], 0
    for char in re.sub(r"<[^>]*>", "", rendered):
        if char in (LRI, RLI, FSI):
            depth += 1
        elif char == PDI:
            depth -= 1
        elif depth == 0 and _LTR.match(char):
            outside.append(char)
    return outside


RTL_KEYS = [
    (code, key)
    for code in supported()
    if is_rtl(code)
    for key in sorted(set(catalogue("en")) | set(catalogue(code) if code in available() else {}))
]


@pytest.mark.parametrize(("code", "key"), RTL_KEYS, ids=[f"{c}:{k}" for c, k in RTL_KEYS])
def test_right_to_left_texts_keep_every_number_and_code_left_to_right(code, key):
    # Every text shown in a right-to-left language: its own, or English until it has one.
    value = catalogue(code).get(key) if code in available() else None
    value = value if value is not None else catalogue("en")[key]
    template = " ".join(_forms(value))
    params: dict[str, object] = {name: "SPR-7KQ4-M9" for name in parameters(template)}
    if isinstance(value, dict):
        params["count"] = 3
    rendered = text(key, code, **params)
    assert unisolated_ltr(rendered) == []
    assert rendered.count(LRI) + rendered.count(RLI) + rendered.count(FSI) == rendered.count(PDI)


def test_arabic_isolates_references_codes_imeis_phone_numbers_and_links():
    rendered = text(
        "conversation.follow_borrowed",
        "ar",
        link="https://t.me/reportbot?start=SPR7KQ4M9_K7QM3XDP",
        reference="SPR-7KQ4-M9",
        code="K7QM-3XDP",
        bot="reportbot",
    )
    assert f"{LRI}https://t.me/reportbot?start=SPR7KQ4M9_K7QM3XDP{PDI}" in rendered
    assert f"{LRI}<code>/status SPR-7KQ4-M9 K7QM-3XDP</code>{PDI}" in rendered
    imei = text("followup.imei_check", "ar", grouped=Imei.parse("490154203237518").grouped)
    assert f"{LRI}<code>490 154 203 237 518</code>{PDI}" in imei
    phone = text("errors.phone_too_short", "ar", example="07700 900123")
    assert unisolated_ltr(phone) == [] and f"{LRI}07700 900123{PDI}" in phone
    assert not phone.startswith(LRI)  # the Arabic sentence, not an English fallback
    assert "\u2066" not in text("followup.imei_check", "en", grouped="490 154")


def test_arabic_text_of_its_own_is_left_alone_and_latin_runs_isolated():
    from handlers.texts import isolate_ltr

    sample = "اتصل بـ 999 الآن. المرجع <code>SPR-7KQ4-M9</code>، ثم *#06#."
    reference = f"{LRI}<code>SPR-7KQ4-M9</code>{PDI}"
    assert isolate_ltr(sample) == (
        f"اتصل بـ {LRI}999{PDI} الآن. المرجع {reference}، ثم {LRI}*#06#{PDI}."
    )
    phone = isolate_ltr("الرقم قصير جدًا، مثلًا 07700 900123 أو +44 7700 900123.")
    assert f" {LRI}07700 900123{PDI} أو {LRI}+44 7700 900123{PDI}." in phone
    two_lines = isolate_ltr("Line one\nline two")
    assert two_lines == f"{LRI}Line one{PDI}\n{LRI}line two{PDI}"
    assert isolate_ltr(isolate_ltr(sample)) == isolate_ltr(sample)


def test_a_bracket_of_the_arabic_sentence_stays_outside_the_isolate():
    from handlers.texts import isolate_ltr

    assert isolate_ltr("(البلاغ SPR-7KQ4-M9)") == f"(البلاغ {LRI}SPR-7KQ4-M9{PDI})"
    assert isolate_ltr("(SPR-7KQ4-M9 البلاغ)") == f"({LRI}SPR-7KQ4-M9{PDI} البلاغ)"
    assert isolate_ltr("اتصل (999)") == f"اتصل {LRI}(999){PDI}"  # balanced: one run
    assert isolate_ltr("هاتف Pixel (Google)") == f"هاتف {LRI}Pixel (Google){PDI}"


# --- errors and platforms ----------------------------------------------------------------------


def raised(call, *args) -> object:
    try:
        call(*args)
    except (InvalidImei, InvalidPhone, InvalidReference, InvalidAccessCode, UnknownStatus) as exc:
        return exc
    raise AssertionError(f"{call.__name__}{args} was accepted")


ERRORS = [
    raised(Imei.parse, "IMEI 1"),
    raised(Imei.parse, "--"),
    raised(Imei.parse, "123"),
    raised(Imei.parse, "111111111111111"),
    raised(Imei.parse, "12345678901234"),
    raised(Imei.parse, "00000000123456"),
    raised(Imei.parse, "490154203237519"),
    raised(Imei, "12"),
    raised(PhoneNumber.parse, "call me"),
    raised(PhoneNumber.parse, "0740#1"),
    raised(PhoneNumber.parse, "()"),
    raised(PhoneNumber.parse, "0" * 41),
    raised(PhoneNumber.parse, "+44 +7400"),
    raised(PhoneNumber.parse, "+999 123456"),
    raised(PhoneNumber.parse, "0"),
    raised(PhoneNumber.parse, "+44 7400 1234"),
    raised(PhoneNumber.parse, "06 12 34 56"),
    raised(PhoneNumber, "07400", "GB"),
    raised(Reference.parse, "SPR-7KQ4-M8"),
    raised(Reference.parse, "SPR"),
    raised(Reference.parse, "SPR-0KQ4-M9"),
    raised(Reference.parse, "SPR!7KQ4-M9"),
    raised(normalise_access_code, "K7QM"),
    raised(normalise_access_code, "K7QM-3XD0"),
    raised(normalise_access_code, "K7QM-3XD!"),
    raised(parse_deep_link_payload, "nope"),
    raised(parse_status, "lost"),
]


@pytest.mark.parametrize("error", ERRORS, ids=[error.code for error in ERRORS])
@pytest.mark.parametrize("code", available())
def test_every_error_is_put_into_words_in_every_language(error, code):
    words = describe(error, code)
    assert words and "$" not in words and error.code not in words
    assert html_problems(words) == []


def test_describe_names_characters_countries_and_plain_text_for_the_command_line():
    assert describe(raised(Imei.parse, "12a"), "en") == (
        "An IMEI has only digits: remove “a” and type just the number."
    )
    hidden = describe(raised(Imei.parse, "12\u0301"), "es")
    assert "un carácter invisible (U+0301)" in hidden
    abroad = describe(raised(PhoneNumber.parse, "06 12 34 56"), "fr")
    assert "Royaume-Uni (+44)" in abroad
    spanish = describe(raised(PhoneNumber.parse, "06 12 34 56"), "es")
    assert "Reino Unido (+44)" in spanish
    html_words = describe(raised(PhoneNumber.parse, "1<2"), "en")
    assert "“&lt;”" in html_words
    assert "“<”" in describe(raised(PhoneNumber.parse, "1<2"), "en", html_text=False)


@pytest.mark.parametrize(
    ("make", "platform", "kind"),
    [
        ("apple", "iphone", "apple"),
        ("samsung", "android", "samsung"),
        ("google", "android", "google"),
        ("other", "android", "android"),
        ("other", "other", "other"),
        (None, None, "other"),
    ],
)
def test_the_account_and_phone_follow_the_make(make, platform, kind):
    assert platform_kind(make, platform) == kind
    words = platform_words(make, "en", platform)
    if kind == "apple":
        assert words == {"your_account": "your Apple Account", "your_phone": "your iPhone"}
    else:
        assert "Apple" not in words["your_account"] and "iPhone" not in words["your_phone"]
    if kind == "other":
        assert words == {"your_account": "your account", "your_phone": "your phone"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("code", available())
def test_every_platform_has_its_words_in_every_language(kind, code):
    words = platform_words(kind, code)
    assert all(words.values())
    police = text("platform.police_never_ask", code, **words)
    assert str(words["your_account"]) in police


def test_the_catalogue_files_are_plain_toml():
    for path in LOCALES_DIR.glob("*/*.toml"):
        with path.open("rb") as handle:
            tomllib.load(handle)
