"""Reading files of seized IMEIs: every accepted form; hostile files refused in bounded memory."""

from __future__ import annotations

import io
import os
import tracemalloc
from pathlib import Path

import pytest

from handlers.texts import text
from models.services.seized import (
    CHUNK_BYTES,
    MAX_IMEIS,
    ReadLimits,
    SeizedFileError,
    parse_seized,
    read_seized,
)
from models.values.imei import Imei
from tests.factories import imei


def dashed(value: Imei) -> str:
    """An IMEI typed with dashes, as 2-6-6-1."""
    d = value.digits
    return f"{d[:2]}-{d[2:8]}-{d[8:14]}-{d[14]}"


def refusal(content: bytes | Path, limits: ReadLimits | None = None) -> SeizedFileError:
    """The error reading CONTENT (bytes, or a real file) raises."""
    with pytest.raises(SeizedFileError) as caught:
        if isinstance(content, Path):
            with content.open("rb") as handle:
                read_seized(handle, limits)
        else:
            parse_seized(content, limits)
    return caught.value


def peak_bytes_reading(path: Path, limits: ReadLimits) -> tuple[int, object]:
    """The most memory Python allocated while reading PATH, and what reading gave."""
    tracemalloc.start()
    try:
        with path.open("rb") as handle:
            try:
                result: object = read_seized(handle, limits)
            except SeizedFileError as exc:
                result = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


# --- the forms a file may take ------------------------------------------------------------------


def test_one_imei_a_line_in_every_accepted_form() -> None:
    a, b, c, d = imei(), imei(), imei(), imei()
    content = "\n".join(
        [
            a.digits,  # 15 digits
            b.digits[:14],  # 14: check digit left off
            c.digits[:14] + "07",  # 16: IMEISV
            dashed(d),
            "",  # blank lines are skipped
            f"  {a.grouped}  ",  # a repeat, spaced
        ]
    )

    seized = parse_seized(content.encode())

    assert [(item.line, item.imei) for item in seized.imeis] == [(1, a), (2, b), (3, c), (4, d)]
    assert [(dup.line, dup.first_line, dup.imei) for dup in seized.duplicates] == [(6, 1, a)]
    assert seized.malformed == []
    assert seized.values == 5


def test_csv_with_imei_columns_found_by_header() -> None:
    a, b, c = imei(), imei(), imei()
    content = (
        "Exhibit;Make;IMEI 1;imei_2\n"
        f"EX1;Apple;{a.digits};\n"
        f"EX2;Samsung;{dashed(b)};{c.digits[:14]}\n"
        "EX3;Nokia;;\n"
    )

    seized = parse_seized(content.encode("utf-8-sig"))

    assert [(item.line, item.imei) for item in seized.imeis] == [(2, a), (3, b), (3, c)]
    assert seized.malformed == []


def test_csv_quoted_cells_and_spreadsheet_quirks() -> None:
    a, b = imei(), imei()
    content = (
        f'"imei","note"\r\n"{a.digits}","seized, bag 4"\r\n\'{b.digits},x\r\n3.52099E+14,y\r\n'
    )

    seized = parse_seized(content.encode())

    assert [(item.line, item.imei) for item in seized.imeis] == [(2, a), (3, b)]
    ((line, reason),) = [(bad.line, bad.reason) for bad in seized.malformed]
    assert line == 4
    assert "spreadsheet" in reason


def test_malformed_lines_say_which_and_why() -> None:
    good = imei()
    wrong_check = good.digits[:14] + str((int(good.digits[14]) + 1) % 10)
    content = "\n".join(
        [good.digits, "12345", wrong_check, "35 2099 abc", "111111111111111", good.digits]
    )

    seized = parse_seized(content.encode())

    assert [item.line for item in seized.imeis] == [1]
    malformed = {bad.line: bad.reason for bad in seized.malformed}
    assert sorted(malformed) == [2, 3, 4, 5]
    errors = {bad.line: bad.error for bad in seized.malformed}
    assert [(line, errors[line].code, errors[line].params) for line in sorted(errors)] == [
        (2, "imei_length", {"count": 5}),
        (3, "imei_check_digit", {"expected": good.digits[14]}),
        (4, "imei_not_a_digit", {"character": "a"}),
        (5, "imei_fake_same_digit", {}),
    ]
    assert all(malformed[line] == errors[line].code for line in malformed)
    assert [(dup.line, dup.first_line) for dup in seized.duplicates] == [(6, 1)]


def test_headerless_csv_with_several_values_a_line_is_malformed() -> None:
    a, b = imei(), imei()

    seized = parse_seized(f"{a.digits},{b.digits}\n{a.digits},\n".encode())

    assert [item.line for item in seized.imeis] == [2]
    (bad,) = seized.malformed
    assert bad.line == 1
    assert "column headed IMEI" in bad.reason


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),  # with its BOM, little-endian here
        ("utf-16-be-bom", "utf-16"),
        ("utf-32", "utf-32"),
        ("cp1252", "utf-8"),  # read as UTF-8, its other bytes as Windows-1252
    ],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    a, b = imei(), imei()
    content = (
        f"IMEI;Besitzer;Notiz\r\n{a.digits};Jürgen Weiß;Café – „Tüte 3“\r\n{b.digits};Zoë;\r\n"
    )
    if encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + content.encode("utf-16-be")
    else:
        data = content.encode(encoding)
    path = tmp_path / "seized.csv"
    path.write_bytes(data)

    with path.open("rb") as handle:
        seized = read_seized(handle)

    assert [(item.line, item.imei) for item in seized.imeis] == [(2, a), (3, b)]
    assert seized.encoding == expected
    assert seized.malformed == []


def test_windows_1252_text_in_a_malformed_cell_reads_as_written() -> None:
    seized = parse_seized("IMEI\r\nAusweis verloren – später\r\n".encode("cp1252"))

    (bad,) = seized.malformed
    assert bad.text == "Ausweis verloren – später"


def test_mac_line_endings_and_a_crlf_split_between_reads(tmp_path: Path) -> None:
    values = [imei() for _ in range(6000)]
    # 6000 lines of 17 bytes: the reader's 64 KiB reads split some CRLF pairs in two.
    path = tmp_path / "seized.txt"
    path.write_bytes("".join(f"{value.digits}\r\n" for value in values).encode())
    old_mac = parse_seized("\r".join(value.digits for value in values[:3]).encode())

    with path.open("rb") as handle:
        seized = read_seized(handle)

    assert [item.line for item in seized.imeis] == list(range(1, 6001))
    assert seized.malformed == [] and seized.duplicates == []
    assert [item.imei for item in old_mac.imeis] == values[:3]


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_a_line_end_on_the_boundary_between_two_reads(ending: str) -> None:
    values = [imei() for _ in range(5000)]
    # Lines of 16 bytes (15 digits and CR): the 4,096th CR is the last byte of the first read.
    first = "".join(f"{value.digits}\r" for value in values[:4096])
    assert len(first.encode()) == CHUNK_BYTES
    content = first + "".join(f"{value.digits}{ending}" for value in values[4096:])

    seized = parse_seized(content.encode())

    assert [item.imei for item in seized.imeis] == values
    assert [item.line for item in seized.imeis] == list(range(1, 5001))
    assert seized.malformed == []


@pytest.mark.parametrize("content", [b"", b"\n\n", b"IMEI\n", b"imei,make\n,,\n"])
def test_a_file_without_imeis_is_refused(content: bytes) -> None:
    error = refusal(content)

    assert error.code == "seized_file_no_imeis"
    assert text(f"staff.{error.code}", **error.params) == "the file holds no IMEIs"


def test_a_file_with_too_many_values_is_refused() -> None:
    content = "\n".join(imei().digits for _ in range(101)).encode()

    error = refusal(content, ReadLimits(max_values=100))

    assert (error.code, error.params) == ("seized_file_too_many_values", {"limit": 100})
    assert MAX_IMEIS == ReadLimits().max_values == 100_000


# --- hostile files --------------------------------------------------------------------------------


def test_a_200000_character_field_is_one_malformed_line(tmp_path: Path) -> None:
    good = imei()
    path = tmp_path / "seized.csv"
    path.write_text(
        f'IMEI,note\n{good.digits},"{"x" * 200_000}"\n{good.digits}\n"{"y" * 300_000}\n'
    )

    with path.open("rb") as handle:
        seized = read_seized(handle)

    assert [(item.line, item.imei) for item in seized.imeis] == [(3, good)]
    assert [(bad.line, bad.reason) for bad in seized.malformed] == [
        (2, "longer than 1,000 characters"),
        (4, "longer than 1,000 characters"),
    ]
    assert seized.malformed[0].text == good.digits + ',"' + "x" * 23


def test_dev_zero_is_refused_at_once() -> None:
    with open("/dev/zero", "rb") as endless:
        error = refusal_of(endless)

    assert error.code == "seized_file_not_text"


def refusal_of(stream: io.BufferedReader) -> SeizedFileError:
    """The error reading STREAM raises."""
    with pytest.raises(SeizedFileError) as caught:
        read_seized(stream)
    return caught.value


def test_an_endless_text_stream_stops_at_the_size_cap() -> None:
    class Endless(io.RawIOBase):
        """An IMEI a line, for ever, counting what was read."""

        line = (imei().digits + "\n").encode()

        def __init__(self) -> None:
            self.given = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            size = len(buffer) - len(buffer) % len(self.line)
            buffer[:size] = self.line * (size // len(self.line))
            self.given += size
            return size

    stream = Endless()
    limits = ReadLimits(max_bytes=1_000_000, max_values=10**9)

    with pytest.raises(SeizedFileError) as caught:
        read_seized(io.BufferedReader(stream), limits)

    assert (caught.value.code, caught.value.params) == ("seized_file_over_limit", {"limit_mb": "1"})
    assert stream.given < 1_000_000 + 2 * 65_536
    message = text("staff.seized_file_over_limit", **caught.value.params)
    assert "larger than the 1 MB" in message and "RECOVERY_MAX_FILE_MB" in message


def test_a_big_one_line_file_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as out:
        out.write(b"IMEI\n" + imei().digits.encode() + b"\n")
        for _ in range(30):
            out.write(b"7" * 1_000_000)  # one 30 MB line with no end
    limits = ReadLimits(max_bytes=50_000_000)

    peak, seized = peak_bytes_reading(path, limits)

    assert not isinstance(seized, SeizedFileError)
    assert [bad.reason for bad in seized.malformed] == ["longer than 1,000 characters"]
    assert len(seized.imeis) == 1
    assert peak < 2_000_000, f"peak {peak:,} bytes while reading a 30 MB line"


def test_a_file_over_the_size_cap_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"IMEI\n" + (b" " * 999 + b"\n") * 50_000)  # 50 MB of blank lines

    peak, error = peak_bytes_reading(path, ReadLimits(max_bytes=10_000_000))

    assert isinstance(error, SeizedFileError)
    assert (error.code, error.params) == ("seized_file_over_limit", {"limit_mb": "10"})
    assert peak < 2_000_000, f"peak {peak:,} bytes"


def test_a_file_of_too_many_imeis_stops_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    path.write_bytes(b"".join((imei().digits + "\n").encode() for _ in range(1_000)) * 200)

    peak, error = peak_bytes_reading(path, ReadLimits(max_values=1_000))

    assert isinstance(error, SeizedFileError)
    assert error.code == "seized_file_too_many_values"
    assert peak < 2_000_000, f"peak {peak:,} bytes"


def test_binary_content_is_refused_as_a_whole(tmp_path: Path) -> None:
    good = imei()
    path = tmp_path / "seized.bin"
    path.write_bytes(good.digits.encode() + b"\n" + bytes(range(256)) * 100)

    assert refusal(path).code == "seized_file_not_text"


def test_binary_content_without_nul_bytes_is_refused_as_mostly_garbage(tmp_path: Path) -> None:
    noise = bytes(byte for byte in os.urandom(300_000) if byte)
    path = tmp_path / "seized.bin"
    path.write_bytes(imei().digits.encode() + b"\n" + noise)

    error = refusal(path)

    assert error.code == "seized_file_mostly_garbage"
    assert error.params["malformed"] > error.params["values"] / 2
    message = text(f"staff.{error.code}", **error.params)
    assert "Nothing was changed" in message and "\n" not in message


def test_a_text_file_of_other_things_is_refused_as_mostly_garbage() -> None:
    lines = ["IMEI"] + [f"exhibit {n}" for n in range(30)] + [imei().digits for _ in range(5)]

    error = refusal("\n".join(lines).encode())

    assert error.code == "seized_file_mostly_garbage"
    assert error.params["malformed"] == 30 and error.params["values"] == 35
    assert error.params["line"] == 2


def test_a_few_malformed_lines_are_listed_not_refused() -> None:
    lines = ["IMEI"] + [f"exhibit {n}" for n in range(19)] + [imei().digits]

    seized = parse_seized("\n".join(lines).encode())

    assert len(seized.malformed) == 19 and len(seized.imeis) == 1


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("IMEI\n352099001761481\n".encode("utf-16-le"), "seized_file_utf16_without_bom"),
        ("IMEI\n352099001761481\n".encode("utf-16-be"), "seized_file_utf16_without_bom"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, "seized_file_workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "seized_file_workbook"),
    ],
)
def test_files_that_are_not_plain_text_say_what_to_do(content: bytes, code: str) -> None:
    error = refusal(content)

    assert error.code == code
    message = text(f"staff.{code}")
    assert "save it as" in message and "\n" not in message
