"""Tests for models.values.imei."""

from itertools import pairwise

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from models.values.imei import Imei, InvalidImei, luhn_check_digit

VALID = "490154203237518"
DIGITS = "0123456789"
FULL_WIDTH = str.maketrans(DIGITS, "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans(DIGITS, "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans(DIGITS, "०१२३४५६७८९")
IMEI_CODES = {
    "imei_not_a_digit",
    "imei_no_digits",
    "imei_length",
    "imei_fake_same_digit",
    "imei_fake_sequence",
    "imei_fake_zeros",
    "imei_check_digit",
}


def reference_luhn_ok(digits: str) -> bool:
    """Independent Luhn check over a whole number, written the textbook way."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return total % 10 == 0


def is_fake(digits: str) -> bool:
    """Independent statement of the fake-IMEI rule."""
    body = digits[:14]
    up = all((int(b) - int(a)) % 10 == 1 for a, b in pairwise(body))
    down = all((int(a) - int(b)) % 10 == 1 for a, b in pairwise(body))
    return len(set(body)) == 1 or up or down or digits.startswith("00000000")


bodies = st.text(alphabet=DIGITS, min_size=14, max_size=14)


@st.composite
def real_imeis(draw: st.DrawFn) -> str:
    """A 15-digit IMEI with a correct check digit that is not a fake."""
    body = draw(bodies)
    digits = body + luhn_check_digit(body)
    assume(not is_fake(digits))
    return digits


@st.composite
def formatted(draw: st.DrawFn, digits: str) -> str:
    """The digits with random separators, digit scripts and surrounding space."""
    seps = st.sampled_from(
        ["", "", " ", "-", ".", "/", "\u00a0", "\u2013", "\u2014", "\u200b", "\u200e", "\u3000"]
    )
    out = "".join(ch + draw(seps) for ch in digits)
    table = draw(st.sampled_from([None, FULL_WIDTH, ARABIC_INDIC, DEVANAGARI]))
    if table is not None:
        out = out.translate(table)
    return draw(st.sampled_from(["", " ", "\t"])) + out + draw(st.sampled_from(["", " ", "\n"]))


def test_luhn_known_values() -> None:
    """The check digits of known IMEIs."""
    assert luhn_check_digit("49015420323751") == "8"
    assert luhn_check_digit("35391810123456") == "1"


def test_luhn_rejects_bad_body() -> None:
    """luhn_check_digit is only for 14 ASCII digits."""
    for bad in ["", "1234", "4901542032375a", "490154203237518", "４９０１５４２０３２３７５１"]:
        with pytest.raises(ValueError):
            luhn_check_digit(bad)


def test_parse_valid() -> None:
    """A valid 15-digit IMEI parses to itself."""
    imei = Imei.parse(VALID)
    assert imei.digits == VALID
    assert str(imei) == VALID
    assert imei == Imei(VALID)


def test_parse_second_known_valid() -> None:
    """353918101234561 is valid (check digit computed with the textbook Luhn)."""
    assert reference_luhn_ok("353918101234561")
    assert Imei.parse("35-391810-123456-1").digits == "353918101234561"


def test_bad_check_digit_names_expected_digit() -> None:
    """A wrong last digit is rejected and the error says which digit was expected."""
    for typed, expected in [("490154203237519", "8"), ("353918101234560", "1")]:
        with pytest.raises(InvalidImei) as info:
            Imei.parse(typed)
        assert (info.value.code, info.value.params) == ("imei_check_digit", {"expected": expected})


@pytest.mark.parametrize(
    "text",
    [
        "49 015420 323751 8",
        "49-015420-323751-8",
        "49.015420.323751.8",
        "490/154/203/237/518",
        "490 154 203 237 518",
        "  490154203237518\n",
        "490\u00a0154\u2009203\u202f237\u3000518",
        "490–154—203‑237−518",
        "\u200e490154203237518\u200f",
        "\u2066490\u200b154\u200c203\u200d237\u2060518\ufeff\u2069",
        "４９０１５４２０３２３７５１８",
        "٤٩٠١٥٤٢٠٣٢٣٧٥١٨",
        "४९०१५४२०३२३७५१८",
    ],
)
def test_parse_accepts_formatting(text: str) -> None:
    """Separators, invisible characters and non-ASCII digits are all accepted."""
    assert Imei.parse(text).digits == VALID


def test_fourteen_digits_get_check_digit() -> None:
    """14 digits: the check digit is computed and appended."""
    assert Imei.parse("49015420323751").digits == VALID


def test_imeisv_sixteen_digits() -> None:
    """16 digits (IMEISV): the first 14 are kept and the check digit computed."""
    assert Imei.parse("4901542032375101").digits == VALID
    assert Imei.parse("49 015420 323751 99").digits == VALID


@pytest.mark.parametrize(("text", "count"), [("3539181012345", 13), ("1" * 17, 17), ("12", 2)])
def test_wrong_length(text: str, count: int) -> None:
    """Any other number of digits is rejected, saying how many there were."""
    with pytest.raises(InvalidImei) as info:
        Imei.parse(text)
    assert (info.value.code, info.value.params) == ("imei_length", {"count": count})


@pytest.mark.parametrize("text", ["", "   ", " - . / ", "\u200b\u200e"])
def test_no_digits(text: str) -> None:
    """Nothing but separators: no digits found."""
    with pytest.raises(InvalidImei) as info:
        Imei.parse(text)
    assert info.value.code == "imei_no_digits"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("IMEI 490154203237518", "I"),
        ("490154203237518 thanks", "t"),
        ("+490154203237518", "+"),
        ("*#06#", "*"),
        ("4901542032375l8", "l"),
        ("490154203237518\x00", "\x00"),
        ("490154\u0301203237518", "\u0301"),
    ],
)
def test_bad_character_is_named(text: str, named: str) -> None:
    """Anything but digits and separators is rejected, naming the first bad character."""
    with pytest.raises(InvalidImei) as info:
        Imei.parse(text)
    assert (info.value.code, info.value.params) == ("imei_not_a_digit", {"character": named})


def test_long_input_message_stays_short() -> None:
    """A 5,000-character message gives a short error, not an echo of the input."""
    with pytest.raises(InvalidImei) as info:
        Imei.parse("hello " * 1000)
    assert info.value.params == {"character": "h"}
    with pytest.raises(InvalidImei) as info:
        Imei.parse("4" * 5000)
    assert info.value.params == {"count": 5000}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("00000000000000", "imei_fake_same_digit"),
        ("11111111111111", "imei_fake_same_digit"),
        ("99999999999999", "imei_fake_same_digit"),
        ("12345678901234", "imei_fake_sequence"),
        ("56789012345678", "imei_fake_sequence"),
        ("98765432109876", "imei_fake_sequence"),
        ("32109876543210", "imei_fake_sequence"),
        ("00000000123456", "imei_fake_zeros"),
    ],
)
def test_fakes_rejected(body: str, reason: str) -> None:
    """Plainly fake IMEIs are rejected in every accepted form, with the reason and what to do."""
    digits = body + luhn_check_digit(body)
    wrong_check = body + str((int(digits[14]) + 1) % 10)
    for text in [body, digits, digits[:14] + "00", wrong_check]:
        with pytest.raises(InvalidImei) as info:
            Imei.parse(text)
        assert (info.value.code, info.value.params) == (reason, {})


def test_examples_from_brief_are_fake() -> None:
    """The all-same example is rejected even with its (wrong) check digit."""
    for text in ["000000000000000", "111111111111119"]:
        with pytest.raises(InvalidImei) as info:
            Imei.parse(text)
        assert info.value.code == "imei_fake_same_digit"


def test_display_forms() -> None:
    """tac, masked and grouped."""
    imei = Imei.parse("353918101234561")
    assert imei.tac == "35391810"
    assert imei.masked == "35391810******"
    assert imei.grouped == "353 918 101 234 561"


def test_leading_zeros_kept() -> None:
    """An IMEI starting with 0 keeps its zeros (text, never int)."""
    body = "01234500123456"
    imei = Imei.parse(body)
    assert imei.digits.startswith("012345")
    assert len(imei.digits) == 15


@pytest.mark.parametrize("digits", ["49015420323751", "490154203237519", "4901542032375a8", 5])
def test_constructor_validates(digits: object) -> None:
    """Imei(...) directly refuses non-canonical or wrong values."""
    with pytest.raises(InvalidImei):
        Imei(digits)  # type: ignore[arg-type]


def test_frozen() -> None:
    """Imei is immutable and hashable."""
    imei = Imei(VALID)
    with pytest.raises(AttributeError):
        imei.digits = "353918101234561"  # type: ignore[misc]
    assert {imei, Imei.parse(VALID)} == {imei}


@given(bodies)
def test_check_digit_agrees_with_textbook_luhn(body: str) -> None:
    """Our check digit makes the textbook Luhn sum come out right, and only that digit does."""
    check = luhn_check_digit(body)
    assert [d for d in DIGITS if reference_luhn_ok(body + d)] == [check]


@given(st.data(), real_imeis())
def test_real_imeis_round_trip_through_formatting(data: st.DataObject, digits: str) -> None:
    """Any real IMEI parses from any formatting to the same canonical digits."""
    imei = Imei.parse(digits)
    assert imei.digits == digits
    for text in [imei.grouped, str(imei), data.draw(formatted(digits))]:
        assert Imei.parse(text) == imei


@given(bodies)
def test_every_body_parses_unless_fake(body: str) -> None:
    """14 random digits plus their check digit are accepted exactly when not fake."""
    digits = body + luhn_check_digit(body)
    if is_fake(digits):
        with pytest.raises(InvalidImei) as info:
            Imei.parse(digits)
        assert info.value.code.startswith("imei_fake_")
    else:
        assert Imei.parse(digits).digits == digits


@given(real_imeis(), st.integers(0, 14), st.integers(1, 9))
def test_any_single_digit_change_is_rejected(digits: str, position: int, delta: int) -> None:
    """Changing any one digit of a valid IMEI is always rejected."""
    changed = str((int(digits[position]) + delta) % 10)
    typo = digits[:position] + changed + digits[position + 1 :]
    with pytest.raises(InvalidImei):
        Imei.parse(typo)


@given(real_imeis(), st.text(alphabet=DIGITS, min_size=2, max_size=2))
def test_fourteen_fifteen_sixteen_agree(digits: str, sv: str) -> None:
    """The 14-digit, 15-digit and 16-digit (IMEISV) forms give the same Imei."""
    assert Imei.parse(digits[:14]) == Imei.parse(digits) == Imei.parse(digits[:14] + sv)


@given(real_imeis())
def test_masked_hides_digits_9_to_15(digits: str) -> None:
    """masked shows exactly the TAC and no digit after it."""
    masked = Imei.parse(digits).masked
    assert masked[:8] == digits[:8]
    assert masked[8:] == "******"
    assert sum(ch.isdigit() for ch in masked) == 8


@given(st.text(max_size=40))
def test_parse_never_crashes(text: str) -> None:
    """Arbitrary text either parses or raises InvalidImei with a known code."""
    try:
        imei = Imei.parse(text)
    except InvalidImei as exc:
        assert exc.code in IMEI_CODES
    else:
        assert len(imei.digits) == 15
        assert imei.digits.isascii()
        assert reference_luhn_ok(imei.digits)
