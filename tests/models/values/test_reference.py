"""Tests for models.values.reference."""

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.values.reference import (
    ALPHABET,
    InvalidAccessCode,
    InvalidReference,
    Reference,
    check_character,
    deep_link_payload,
    generate_access_code,
    normalise_access_code,
    parse_deep_link_payload,
)
from tests.models.values.shown import shown

AMBIGUOUS = "01ILO"
CANONICAL = re.compile(rf"SPR-[{ALPHABET}]{{4}}-[{ALPHABET}]{{2}}")
PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")

bodies = st.text(alphabet=ALPHABET, min_size=5, max_size=5)


def chars_of(ref: Reference) -> str:
    """The 6 characters after the prefix (5 random + 1 check)."""
    return ref.compact[3:]


def sample_references(n: int = 300) -> list[Reference]:
    """A reproducible random sample of references."""
    rng = random.Random(20250222)
    out = []
    for _ in range(n):
        body = "".join(rng.choice(ALPHABET) for _ in range(5))
        out.append(Reference.parse(body + check_character(body)))
    return out


def is_valid(chars: str) -> bool:
    """Whether 6 characters after the prefix form a valid reference."""
    try:
        Reference.parse(chars)
    except InvalidReference:
        return False
    return True


def test_alphabet() -> None:
    """31 unambiguous characters, no repeats."""
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set(ALPHABET) & set(AMBIGUOUS)
    assert set(ALPHABET) == set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


def test_documented_example_is_valid() -> None:
    """The example in PRODUCT.md is a real, valid reference."""
    assert shown(Reference.parse("SPR-7KQ4-M9"), "code", "compact") == {
        "str": "SPR-7KQ4-M9",
        "code": "SPR-7KQ4-M9",
        "compact": "SPR7KQ4M9",
    }


@pytest.mark.parametrize(
    "text",
    [
        "SPR-7KQ4-M9",
        "spr 7kq4 m9",
        "spr-7kq4-m9",
        "SPR7KQ4M9",
        "7KQ4M9",
        "7kq4-m9",
        "  SPR – 7KQ4 — M9 ",
        "SPR\u00a07KQ4\u2009M9",
        "\u200eSPR\u200b-7KQ4-\ufeffM9\u200f",
        "ＳＰＲ－７ＫＱ４－Ｍ９",
        "spr-٧kq٤-m٩",
    ],
)
def test_lenient_parse(text: str) -> None:
    """Case, spaces, dashes, prefix, invisible characters and Unicode digits are forgiven."""
    assert Reference.parse(text).code == "SPR-7KQ4-M9"


def test_typo_detected() -> None:
    """A wrong check character is a typo."""
    with pytest.raises(InvalidReference) as info:
        Reference.parse("SPR-7KQ4-M8")
    assert (info.value.code, info.value.params) == ("reference_typo", {})


@pytest.mark.parametrize("text", ["", "SPR", "SPR-7KQ4", "SPR-7KQ4-M9X", "7KQ4M", "XYZ7KQ4M9"])
def test_wrong_length(text: str) -> None:
    """Too short or too long: the message shows what a reference looks like."""
    with pytest.raises(InvalidReference) as info:
        Reference.parse(text)
    assert (info.value.code, info.value.params) == ("reference_shape", {"example": "SPR-7KQ4-M9"})


@pytest.mark.parametrize(
    ("text", "named"), [("SPR-7KQ4-MO", "O"), ("SPR-1KQ4-M9", "1"), ("spr-7kq4-l9", "l")]
)
def test_ambiguous_characters_explained(text: str, named: str) -> None:
    """0, 1, I, L, O are never in a reference, and the error says so."""
    with pytest.raises(InvalidReference) as info:
        Reference.parse(text)
    assert info.value.code == "reference_misread_character"
    assert info.value.params == {"character": named}


@pytest.mark.parametrize(("text", "named"), [("SPR-7KQ4-M9!", "!"), ("SPR_7KQ4_M9", "_")])
def test_other_characters_named(text: str, named: str) -> None:
    """Other characters are named."""
    with pytest.raises(InvalidReference) as info:
        Reference.parse(text)
    assert (info.value.code, info.value.params) == ("reference_bad_character", {"character": named})


def test_long_input_short_message() -> None:
    """A 5,000-character message gets a short error."""
    for text in ["A" * 5000, "hello " * 1000]:
        with pytest.raises(InvalidReference) as info:
            Reference.parse(text)
        assert all(len(str(value)) < 20 for value in info.value.params.values())


@pytest.mark.parametrize("code", ["SPR-7KQ4-M8", "spr-7kq4-m9", "SPR7KQ4M9", "SPR-7KQ4-MO", ""])
def test_constructor_requires_canonical_valid(code: str) -> None:
    """Reference(...) directly refuses non-canonical or invalid codes."""
    with pytest.raises(InvalidReference):
        Reference(code)


def test_generate() -> None:
    """Generated references are canonical, valid, and differ."""
    refs = {Reference.generate() for _ in range(500)}
    assert len(refs) > 490
    for ref in refs:
        assert CANONICAL.fullmatch(ref.code)
        assert Reference.parse(ref.code) == ref
        assert Reference.parse(ref.compact) == ref
        assert Reference.parse(ref.code.lower().replace("-", " ")) == ref
        assert not set(ref.code[4:]) & set(AMBIGUOUS)


def test_every_single_substitution_detected() -> None:
    """Exhaustively: each position replaced by each other character fails the check."""
    for ref in sample_references():
        chars = chars_of(ref)
        for i in range(6):
            for ch in ALPHABET:
                if ch != chars[i]:
                    assert not is_valid(chars[:i] + ch + chars[i + 1 :])


def test_every_adjacent_transposition_detected() -> None:
    """Exhaustively: swapping any two neighbouring different characters fails the check."""
    for ref in sample_references():
        chars = chars_of(ref)
        for i in range(5):
            if chars[i] != chars[i + 1]:
                swapped = chars[:i] + chars[i + 1] + chars[i] + chars[i + 2 :]
                assert not is_valid(swapped)


def test_all_transpositions_of_all_pairs_detected() -> None:
    """Stronger: any two different characters swapped, at any distance, fails the check."""
    for ref in sample_references(100):
        chars = list(chars_of(ref))
        for i in range(6):
            for j in range(i + 1, 6):
                if chars[i] != chars[j]:
                    swapped = chars.copy()
                    swapped[i], swapped[j] = swapped[j], swapped[i]
                    assert not is_valid("".join(swapped))


def test_exactly_one_check_character_per_body() -> None:
    """For a sample of bodies, exactly one of the 31 characters completes a valid reference."""
    for ref in sample_references(50):
        body = chars_of(ref)[:5]
        assert [ch for ch in ALPHABET if is_valid(body + ch)] == [check_character(body)]


def test_check_character_rejects_bad_body() -> None:
    """check_character needs 5 alphabet characters."""
    for bad in ["", "7KQ4", "7KQ4MM", "7KQ4O", "7kq4m"]:
        with pytest.raises(ValueError):
            check_character(bad)


@given(bodies)
def test_any_body_with_its_check_character_parses(body: str) -> None:
    """Every body plus its check character is a valid reference, in any accepted spelling."""
    chars = body + check_character(body)
    ref = Reference.parse(chars)
    assert ref.code == f"SPR-{chars[:4]}-{chars[4:]}"
    assert Reference.parse(f"spr {chars.lower()}") == ref


@given(bodies, st.integers(0, 5), st.sampled_from(ALPHABET))
def test_substitution_property(body: str, i: int, ch: str) -> None:
    """Hypothesis: any single substitution of a valid reference is rejected."""
    chars = body + check_character(body)
    if ch != chars[i]:
        assert not is_valid(chars[:i] + ch + chars[i + 1 :])


@given(st.text(max_size=30))
def test_parse_never_crashes(text: str) -> None:
    """Arbitrary text either parses to a canonical reference or raises InvalidReference."""
    try:
        ref = Reference.parse(text)
    except InvalidReference as exc:
        assert exc.code.startswith("reference_")
    else:
        assert CANONICAL.fullmatch(ref.code)


def test_access_codes() -> None:
    """Access codes: 8 unambiguous characters in two groups, and random."""
    codes = {generate_access_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", code)
        assert not set(code) & set(AMBIGUOUS)
        assert normalise_access_code(code) == code


@pytest.mark.parametrize(
    "text",
    [
        "K7QM-3XDP",
        "k7qm-3xdp",
        "K7QM3XDP",
        "k7qm 3xdp",
        " K7 QM 3X DP ",
        "K7QM–3XDP",
        "\u200eK7QM\u200b3XDP\u200f",
        "Ｋ７ＱＭ－３ＸＤＰ",
        "K٧QM-٣XDP",
    ],
)
def test_normalise_access_code(text: str) -> None:
    """Lenient spelling of an access code gives the canonical form."""
    assert normalise_access_code(text) == "K7QM-3XDP"


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("", "access_code_shape", {"length": 8, "example": "K7QM-3XDP"}),
        ("K7QM-3XD", "access_code_shape", {"length": 8, "example": "K7QM-3XDP"}),
        ("K7QM-3XDPP", "access_code_shape", {"length": 8, "example": "K7QM-3XDP"}),
        ("K7QM-3XD0", "access_code_misread_character", {"character": "0"}),
        ("K7QM-3XD!", "access_code_bad_character", {"character": "!"}),
    ],
)
def test_bad_access_codes(text: str, code: str, params: dict) -> None:
    """Wrong length or characters are rejected with a clear code."""
    with pytest.raises(InvalidAccessCode) as info:
        normalise_access_code(text)
    assert (info.value.code, info.value.params) == (code, params)


def test_deep_link_example() -> None:
    """The payload is the compact reference and code joined by '_'."""
    ref = Reference.parse("SPR-7KQ4-M9")
    assert deep_link_payload(ref, "K7QM-3XDP") == "SPR7KQ4M9_K7QM3XDP"
    assert deep_link_payload(ref, "k7qm 3xdp") == "SPR7KQ4M9_K7QM3XDP"
    assert parse_deep_link_payload("SPR7KQ4M9_K7QM3XDP") == (ref, "K7QM-3XDP")


def test_deep_link_round_trip_and_limits() -> None:
    """Generated links round-trip and fit Telegram's /start parameter rules."""
    for _ in range(300):
        ref, code = Reference.generate(), generate_access_code()
        payload = deep_link_payload(ref, code)
        assert PAYLOAD.fullmatch(payload)
        assert len(payload) <= 64
        assert parse_deep_link_payload(payload) == (ref, code)


def test_deep_link_bad_code_rejected() -> None:
    """A bad access code in either direction raises InvalidAccessCode."""
    ref = Reference.parse("SPR-7KQ4-M9")
    with pytest.raises(InvalidAccessCode):
        deep_link_payload(ref, "short")
    with pytest.raises(InvalidAccessCode):
        parse_deep_link_payload("SPR7KQ4M9_K7QM3XD")


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "SPR7KQ4M9",
        "SPR7KQ4M9K7QM3XDP",
        "SPR7KQ4M9_K7QM_3XDP",
        "SPR7KQ4M9 K7QM3XDP",
        "SPR7KQ4M8_K7QM3XDP",
        "SPR7KQ4M9_K7QM3XDP" + "A" * 60,
        "<b>_</b>",
    ],
)
def test_bad_payloads(payload: str) -> None:
    """Malformed payloads raise InvalidReference or InvalidAccessCode, never anything else."""
    with pytest.raises((InvalidReference, InvalidAccessCode)):
        parse_deep_link_payload(payload)
