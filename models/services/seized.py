"""Reading a file of seized handsets' IMEIs, in bounded memory, whatever the file holds.

The file is a CSV with a column headed like "IMEI" (every such column is read), or one IMEI a
line; any form `Imei.parse` accepts (14, 15 or 16 digits, spaces, dashes, dots). It is read as a
stream: at most `ReadLimits.max_bytes` bytes, one line of at most `max_line_chars` characters at a
time, at most `max_values` values. Encodings: UTF-8 (with or without BOM), UTF-16 and UTF-32 with
a BOM; bytes that are not UTF-8 are read as Windows-1252. A file that is not text (NUL bytes, a
spreadsheet workbook, UTF-16 without its BOM), too big, too long, or mostly lines that are not
IMEIs is refused as a whole with a `SeizedFileError`, so nothing of it is ever applied.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from models.errors import RegisterError
from models.values.imei import Imei, InvalidImei

MB = 1_000_000
DEFAULT_MAX_MB = 20
MAX_IMEIS = 100_000
MAX_LINE_CHARS = 1_000
MAX_SHOWN_TEXT = 40
# More malformed values than this share of all values (and at least GARBAGE_MINIMUM of them)
# means the file is not a list of IMEIs at all: it is refused rather than listed line by line.
GARBAGE_SHARE = 0.5
GARBAGE_MINIMUM = 20
CHUNK_BYTES = 64 * 1024
DELIMITERS = ",;\t"
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE]\+?\d+")
_WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_FALLBACK_ERRORS = "reportbot.seized.cp1252"


def _as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes that are not UTF-8 as Windows-1252 (what Excel writes on Windows)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


codecs.register_error(_FALLBACK_ERRORS, _as_cp1252)


class SeizedFileError(RegisterError):
    """The file cannot be used as a whole (codes `seized_file_*`); nothing of it is applied."""


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How much of a file the reader takes before refusing it."""

    max_bytes: int = DEFAULT_MAX_MB * MB
    max_line_chars: int = MAX_LINE_CHARS
    max_values: int = MAX_IMEIS
    garbage_share: float = GARBAGE_SHARE
    garbage_minimum: int = GARBAGE_MINIMUM

    @property
    def max_mb(self) -> float:
        """The size cap in megabytes (10**6 bytes), as the refusal states it."""
        return self.max_bytes / MB

    def capped(self, max_bytes: int) -> ReadLimits:
        """These limits with the size cap lowered to MAX_BYTES (if it is lower)."""
        return ReadLimits(
            min(self.max_bytes, max_bytes),
            self.max_line_chars,
            self.max_values,
            self.garbage_share,
            self.garbage_minimum,
        )


def too_big(limits: ReadLimits, size: int | None = None) -> SeizedFileError:
    """The refusal of a file larger than LIMITS allow (SIZE in bytes when known)."""
    if size is None:
        return SeizedFileError("seized_file_over_limit", limit_mb=_mb(limits.max_bytes))
    # Rounded up, so that a file just over the cap never reads as its size.
    size_mb = _mb(math.ceil(size / (MB / 10)) * (MB // 10))
    return SeizedFileError("seized_file_too_big", size_mb=size_mb, limit_mb=_mb(limits.max_bytes))


def _mb(size: float) -> str:
    return f"{size / MB:.1f}".removesuffix(".0")


@dataclass(frozen=True, slots=True)
class SeizedImei:
    """A well-formed IMEI read from the file, with the line it came from."""

    line: int
    imei: Imei


@dataclass(frozen=True, slots=True)
class MalformedLine:
    """A value that is not an IMEI, and why (`error`, when the IMEI's own check refused it:
    then `reason` is its code, and the faces put it into words)."""

    line: int
    text: str
    reason: str
    error: InvalidImei | None = None


@dataclass(frozen=True, slots=True)
class DuplicateLine:
    """An IMEI the file already gave on an earlier line (only the first one counts)."""

    line: int
    first_line: int
    imei: Imei


@dataclass(slots=True)
class SeizedFile:
    """What a file of seized handsets holds."""

    imeis: list[SeizedImei] = field(default_factory=list)
    malformed: list[MalformedLine] = field(default_factory=list)
    duplicates: list[DuplicateLine] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def values(self) -> int:
        """How many values the file gave (well-formed, malformed and repeated)."""
        return len(self.imeis) + len(self.malformed) + len(self.duplicates)


@dataclass(slots=True)
class _Line:
    """One physical line: its number and text, or None (and how it starts) if over the cap."""

    number: int
    text: str | None
    start: str = ""


def _encoding(head: bytes) -> str:
    """The encoding the first bytes show; SeizedFileError for what is not a text file."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if head.startswith(_WORKBOOKS):
        raise SeizedFileError("seized_file_workbook")
    if b"\x00" in head:
        sample = head[:4096]
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        # ASCII text in UTF-16 has a NUL in every other byte, always on the same side.
        if max(even, odd) > 0.3 * (len(sample) / 2) and min(even, odd) < 0.05 * (len(sample) / 2):
            raise SeizedFileError("seized_file_utf16_without_bom")
        raise SeizedFileError("seized_file_not_text")
    return "utf-8"


def _lines(stream: BinaryIO, limits: ReadLimits, seized: SeizedFile) -> Iterator[_Line]:
    """The stream's lines (any line ending), decoded; never more than LIMITS in memory."""
    head = stream.read(CHUNK_BYTES)
    total = len(head)
    if total > limits.max_bytes:
        raise too_big(limits)
    seized.encoding = _encoding(head)
    decoder: codecs.IncrementalDecoder
    if seized.encoding.startswith("utf-8"):
        decoder = codecs.getincrementaldecoder("utf-8-sig")(errors=_FALLBACK_ERRORS)
    else:
        decoder = codecs.getincrementaldecoder(seized.encoding)(errors="replace")
    pending = ""  # the start of the current line (at most max_line_chars characters)
    overlong = ""  # how the current line starts, once it has gone past the cap (rest skipped)
    carry = ""  # a CR that ended the last read: the first half of a CRLF, or a line end itself
    number = 1
    chunk = head
    while True:
        final = not chunk
        text = carry + decoder.decode(chunk, final=final)
        if "\x00" in text:
            raise SeizedFileError("seized_file_not_text")
        carry = ""
        if not final and text.endswith("\r"):
            text, carry = text[:-1], "\r"
        start = 0
        for newline in _NEWLINE.finditer(text):
            piece = text[start : newline.start()]
            if not overlong and len(pending) + len(piece) <= limits.max_line_chars:
                yield _Line(number, pending + piece)
            else:
                yield _Line(number, None, overlong or (pending + piece)[:MAX_SHOWN_TEXT])
            pending, overlong, number = "", "", number + 1
            start = newline.end()
        if not overlong:
            pending += text[start:]
            if len(pending) > limits.max_line_chars:
                pending, overlong = "", pending[:MAX_SHOWN_TEXT]
        if final:
            if overlong or pending:
                yield _Line(number, None, overlong) if overlong else _Line(number, pending)
            return
        chunk = stream.read(CHUNK_BYTES)
        total += len(chunk)
        if total > limits.max_bytes:
            raise too_big(limits)


def _is_imei_header(cell: str) -> bool:
    return "imei" in re.sub(r"[^a-z0-9]", "", cell.lower())


def _delimiter(line: str) -> str | None:
    counts = {delimiter: line.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else None


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch != "\t" for ch in text)


def _reason(text: str, error: InvalidImei, columns: int) -> str:
    if _SCIENTIFIC.fullmatch(text.strip()):
        return "a spreadsheet turned this IMEI into a rounded number; save the column as text"
    if columns > 1:
        return "several values on one line: give the file a column headed IMEI"
    return error.code


class _Reader:
    """Turns lines into values: finds the layout on the first line, then reads the rest."""

    def __init__(self, limits: ReadLimits, seized: SeizedFile) -> None:
        self.limits = limits
        self.seized = seized
        self.layout_known = False
        self.delimiter: str | None = None
        self.columns: list[int] = []
        self.first_seen: dict[str, int] = {}

    def _cells(self, text: str) -> list[str]:
        if self.delimiter is None:
            return [text]
        try:
            return next(csv.reader([text], delimiter=self.delimiter), [])
        except csv.Error:
            return [text]

    def line(self, line: _Line) -> None:
        """Take one physical line."""
        if line.text is None:
            reason = f"longer than {self.limits.max_line_chars:,} characters"
            self._malformed(line.number, line.start, reason)
            return
        if not line.text.strip(DELIMITERS + " "):
            return
        if not self.layout_known:
            self.layout_known = True
            self.delimiter = _delimiter(line.text)
            cells = self._cells(line.text)
            self.columns = [index for index, cell in enumerate(cells) if _is_imei_header(cell)]
            if self.columns:
                return
        if _has_control_characters(line.text):
            self._malformed(line.number, line.text, "control characters: this line is not text")
            return
        cells = self._cells(line.text)
        if self.columns:
            for column in self.columns:
                if column < len(cells) and cells[column].strip():
                    self._value(line.number, cells[column], 1)
            return
        filled = [cell for cell in cells if cell.strip()]
        if len(filled) == 1:
            self._value(line.number, filled[0], 1)
        else:
            self._value(line.number, ",".join(cells), len(cells))

    def _count(self) -> None:
        if self.seized.values >= self.limits.max_values:
            raise SeizedFileError("seized_file_too_many_values", limit=self.limits.max_values)

    def _malformed(
        self, number: int, text: str, reason: str, error: InvalidImei | None = None
    ) -> None:
        self._count()
        self.seized.malformed.append(MalformedLine(number, text[:MAX_SHOWN_TEXT], reason, error))

    def _value(self, number: int, raw: str, columns: int) -> None:
        # A leading apostrophe is how spreadsheets mark a cell as text.
        cell = raw.strip().removeprefix("'")
        try:
            imei = Imei.parse(cell)
        except InvalidImei as exc:
            reason = _reason(cell, exc, columns)
            self._malformed(number, cell, reason, exc if reason == exc.code else None)
            return
        self._count()
        if imei.digits in self.first_seen:
            self.seized.duplicates.append(DuplicateLine(number, self.first_seen[imei.digits], imei))
            return
        self.first_seen[imei.digits] = number
        self.seized.imeis.append(SeizedImei(number, imei))


def read_seized(stream: BinaryIO, limits: ReadLimits | None = None) -> SeizedFile:
    """Read a file of seized IMEIs from STREAM; SeizedFileError if it cannot be used as a whole."""
    limits = limits or ReadLimits()
    seized = SeizedFile()
    reader = _Reader(limits, seized)
    for line in _lines(stream, limits, seized):
        reader.line(line)
    if not seized.values:
        raise SeizedFileError("seized_file_no_imeis")
    malformed = len(seized.malformed)
    if malformed >= limits.garbage_minimum and malformed > limits.garbage_share * seized.values:
        first = seized.malformed[0]
        raise SeizedFileError(
            "seized_file_mostly_garbage",
            malformed=malformed,
            values=seized.values,
            line=first.line,
            reason=first.reason,
        )
    return seized


def parse_seized(content: bytes | str, limits: ReadLimits | None = None) -> SeizedFile:
    """Read a whole file already in memory (bytes, or text) as `read_seized` does."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return read_seized(io.BytesIO(data), limits)
