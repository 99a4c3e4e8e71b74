"""Tests for models.values.phone."""

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from models.values.phone import InvalidPhone, PhoneNumber, same_number
from tests.models.values.shown import shown

EXAMPLES_SHOWN = {"example": "07700 900123", "international": "+33 6 12 34 56 78"}


def example(region: str, kind: int = PhoneNumberType.MOBILE) -> phonenumbers.PhoneNumber:
    """phonenumbers' own example number for a region (never an invented one)."""
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None
    return number


def e164(number: phonenumbers.PhoneNumber) -> str:
    """E.164 form of a phonenumbers object."""
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _examples() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    """Example mobile and fixed-line numbers of every region phonenumbers knows."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                out.append((region, number))
    return out


EXAMPLES = _examples()
GB_MOBILE = example("GB")  # +44 7400 123456
GB_MOBILE_NATIONAL = phonenumbers.format_number(GB_MOBILE, PhoneNumberFormat.NATIONAL)
FR_MOBILE = example("FR")  # +33 6 12 34 56 78


def test_examples_are_what_the_tests_assume() -> None:
    """Guard: the library's examples are the numbers the tests below were written for."""
    assert e164(GB_MOBILE) == "+447400123456"
    assert GB_MOBILE_NATIONAL == "07400 123456"
    assert e164(FR_MOBILE) == "+33612345678"
    assert len(EXAMPLES) > 300


def test_uk_mobile_national_form() -> None:
    """A UK mobile typed in national form is stored as E.164."""
    assert shown(PhoneNumber.parse("07400 123456"), "e164", "region", "international") == {
        "str": "+447400123456",
        "e164": "+447400123456",
        "region": "GB",
        "international": "+44 7400 123456",
    }


@pytest.mark.parametrize(
    "text",
    [
        "07400123456",
        "07400 123 456",
        "07400-123-456",
        "07400.123.456",
        "(07400) 123456",
        "+44 7400 123456",
        "+44 (0)7400 123456",
        "+447400123456",
        "0044 7400 123456",
        "00447400123456",
        "  07400 123456 \n",
        "07400\u00a0123456",
        "07400\u2009123\u2013456",
        "\u200e+44 7400 123456\u200f",
        "\u2066074\u200b00\u200c123\u200d456\ufeff\u2069",
        "０７４００ １２３４５６",
        "＋４４ ７４００ １２３４５６",
        "٠٧٤٠٠١٢٣٤٥٦",
        "०७४००१२३४५६",
    ],
)
def test_accepted_forms(text: str) -> None:
    """Separators, international prefixes, invisible characters and Unicode digits."""
    assert PhoneNumber.parse(text).e164 == "+447400123456"


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("07781 123456", "GG"),  # Guernsey
        ("07797 712345", "JE"),  # Jersey
        ("07624 123456", "IM"),  # Isle of Man
        ("+44 7781 123456", "GG"),
        ("0044 7797 712345", "JE"),
    ],
)
def test_crown_dependencies(text: str, region: str) -> None:
    """Guernsey, Jersey and Isle of Man mobiles typed with default region GB keep their region."""
    phone = PhoneNumber.parse(text)
    assert phone.region == region
    assert phonenumbers.is_valid_number_for_region(phonenumbers.parse(phone.e164), region)


def test_crown_dependency_examples_are_library_examples() -> None:
    """The Guernsey and Jersey numbers above are the library's own examples."""
    assert e164(example("GG")) == "+447781123456"
    assert e164(example("JE")) == "+447797712345"


def test_foreign_number_with_country_code() -> None:
    """A French mobile with its country code."""
    phone = PhoneNumber.parse("+33 6 12 34 56 78")
    assert shown(phone, "e164", "region", "international") == {
        "str": "+33612345678",
        "e164": "+33612345678",
        "region": "FR",
        "international": "+33 6 12 34 56 78",
    }


def test_default_region_used_for_national_form() -> None:
    """National form is read in the default region."""
    assert PhoneNumber.parse("06 12 34 56 78", "FR").e164 == "+33612345678"


@pytest.mark.parametrize(
    "text",
    [
        "call me on 07400 123456 thanks",
        "07400123456 ext 5",
        "07400 123456 x5",
        "mobile: 07400 123456",
        "0800 FLOWERS",
        "O7400 123456",  # letter O for zero: rejected, never guessed
        "07400 l23456",
        "tel:+447400123456",
        "Ｏ７４００",
    ],
)
def test_words_and_letters_rejected(text: str) -> None:
    """Any letter: rejected with the plain instruction, never guessed."""
    with pytest.raises(InvalidPhone) as info:
        PhoneNumber.parse(text)
    assert info.value.code == "phone_letters"
    assert info.value.params == EXAMPLES_SHOWN


@pytest.mark.parametrize(
    ("text", "named"),
    [("07400 123456 #", "#"), ("07400/123456", "/"), ("*123#", "*"), ("07400,123", ",")],
)
def test_other_characters_rejected(text: str, named: str) -> None:
    """Other symbols are rejected, naming the symbol."""
    with pytest.raises(InvalidPhone) as info:
        PhoneNumber.parse(text)
    assert info.value.code == "phone_bad_character"
    assert info.value.params == {"character": named, **EXAMPLES_SHOWN}


@pytest.mark.parametrize("text", ["0", "+4"])
def test_too_short(text: str) -> None:
    """A single digit."""
    with pytest.raises(InvalidPhone) as info:
        PhoneNumber.parse(text)
    assert info.value.code == "phone_too_short"


@pytest.mark.parametrize("text", ["", "   ", "-", "()", "+", "\u200b"])
def test_no_number(text: str) -> None:
    """Nothing to parse."""
    with pytest.raises(InvalidPhone) as info:
        PhoneNumber.parse(text)
    assert info.value.code == "phone_no_digits"


@pytest.mark.parametrize("text", ["+44 7400 +123456", "0044+7400123456", "++447400123456"])
def test_misplaced_plus(text: str) -> None:
    """'+' only once, at the start."""
    with pytest.raises(InvalidPhone) as info:
        PhoneNumber.parse(text)
    assert info.value.code == "phone_plus_placement"


@pytest.mark.parametrize("text", ["07400 12345", "0740", "12", "+44 0000000000"])
def test_incomplete_uk_number_strict(text: str) -> None:
    """Strict mode: an incomplete or invalid number is rejected, naming the country."""
    with pytest.raises(InvalidPhone) as info:
        PhoneNumber.parse(text)
    assert info.value.code.startswith("phone_incomplete")
    assert (info.value.params["region"], info.value.params["country_code"]) == ("GB", "44")


def test_incomplete_national_number_hints_country_code() -> None:
    """Typed without a country code: the message explains how to type a foreign number."""
    with pytest.raises(InvalidPhone) as info:
        PhoneNumber.parse("06 12 34 56")
    assert info.value.code == "phone_incomplete_not_home"
    assert info.value.params["home_region"] == "GB"
    assert info.value.params["international"] == "+33 6 12 34 56 78"
    with pytest.raises(InvalidPhone) as info:
        PhoneNumber.parse("+44 7400 1234")
    assert info.value.code == "phone_incomplete"


def test_unknown_country_code() -> None:
    """An unassigned country code is named as the problem."""
    with pytest.raises(InvalidPhone) as info:
        PhoneNumber.parse("+999 123456")
    assert info.value.code == "phone_bad_country_code"


def test_too_long() -> None:
    """A very long number, and a 5,000-character message, give short errors."""
    for text in ["0" * 41, "7" * 5000, "07400 123456 " * 400]:
        with pytest.raises(InvalidPhone) as info:
            PhoneNumber.parse(text)
        assert info.value.code == "phone_too_long"
        assert info.value.params == EXAMPLES_SHOWN


def test_drama_range_is_possible_but_not_valid() -> None:
    """Ofcom's drama range 07700 900xxx is not a valid number for phonenumbers, but possible."""
    with pytest.raises(InvalidPhone):
        PhoneNumber.parse("07700 900123")
    phone = PhoneNumber.parse("07700 900123", strict=False)
    assert phone.e164 == "+447700900123"
    assert phone.region == "GB"


def test_non_strict_still_needs_possible_number() -> None:
    """Non-strict mode still rejects impossible lengths."""
    with pytest.raises(InvalidPhone):
        PhoneNumber.parse("0740", strict=False)


def test_masked() -> None:
    """masked shows the country code and a few digits, never the last six."""
    assert PhoneNumber.parse("07400 123456").masked == "+447400******"
    assert PhoneNumber.parse("+33 6 12 34 56 78").masked == "+33612******"


def test_same_number() -> None:
    """Two spellings of one number are the same number; different numbers are not."""
    a = PhoneNumber.parse("07400 123456")
    b = PhoneNumber.parse("+44 (0)7400-123-456")
    c = PhoneNumber.parse("07781 123456")
    assert same_number(a, b)
    assert not same_number(a, c)


@pytest.mark.parametrize("e164_text", ["07400123456", "+0123", "447400123456", "", "+44 7400"])
def test_constructor_validates(e164_text: str) -> None:
    """PhoneNumber(...) directly refuses anything but E.164."""
    with pytest.raises(InvalidPhone):
        PhoneNumber(e164_text, "GB")


separators = st.sampled_from(["", " ", "-", ".", "\u00a0", "\u2009", "\u2013", "\u200b"])


@st.composite
def with_separators(draw: st.DrawFn, text: str) -> str:
    """The text with every space replaced and random separators added after digits."""
    out = []
    for ch in text:
        if ch == " ":
            out.append(draw(separators))
        else:
            out.append(ch)
            if ch.isdigit() and draw(st.booleans()):
                out.append(draw(separators))
    return "".join(out)


@given(st.data(), st.sampled_from(EXAMPLES))
def test_examples_round_trip(data: st.DataObject, region_and_number: tuple) -> None:
    """Every region's example numbers, in international or E.164 form, parse to the same E.164."""
    _, number = region_and_number
    kind = data.draw(st.sampled_from([PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.E164]))
    text = data.draw(with_separators(phonenumbers.format_number(number, kind)))
    phone = PhoneNumber.parse(text)
    assert phone.e164 == e164(number)
    assert phone.region in phonenumbers.region_codes_for_country_code(number.country_code)
    assert phone.international == phonenumbers.format_number(
        number, PhoneNumberFormat.INTERNATIONAL
    )


@given(st.sampled_from(EXAMPLES))
def test_examples_in_national_form_with_their_region(region_and_number: tuple) -> None:
    """Example numbers typed in national form parse with their region as default."""
    region, number = region_and_number
    text = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    if any(ch.isalpha() for ch in text):
        return  # a few national formats contain words, which we do not accept
    assert PhoneNumber.parse(text, region).e164 == e164(number)


@given(st.sampled_from(EXAMPLES))
def test_masked_never_reveals_last_six(region_and_number: tuple) -> None:
    """masked keeps the length, shows the country code, and hides at least the last six digits."""
    _, number = region_and_number
    phone = PhoneNumber.parse(e164(number))
    country = f"+{number.country_code}"
    assert phone.masked.startswith(country)
    assert len(phone.masked) == len(phone.e164)
    national_length = len(phone.e164) - len(country)
    assert phone.masked.endswith("*" * min(6, national_length))
    visible = phone.masked[len(country) :].rstrip("*")
    assert len(visible) <= 4
    assert phone.e164.startswith(country + visible)


@given(
    st.sampled_from(EXAMPLES),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1),
    st.integers(min_value=0),
)
def test_ascii_letters_always_rejected(region_and_number: tuple, letters: str, at: int) -> None:
    """Any text with ASCII letters in it is rejected, wherever they are."""
    _, number = region_and_number
    text = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    at %= len(text) + 1
    with pytest.raises(InvalidPhone):
        PhoneNumber.parse(text[:at] + letters + text[at:])


@given(st.text(max_size=60))
def test_parse_never_crashes(text: str) -> None:
    """Arbitrary text either parses to E.164 or raises InvalidPhone."""
    try:
        phone = PhoneNumber.parse(text, strict=False)
    except InvalidPhone as exc:
        assert exc.code.startswith("phone_")
    else:
        assert phone.e164.startswith("+")
        assert phone.e164[1:].isdigit()
