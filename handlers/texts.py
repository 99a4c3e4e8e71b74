"""Message catalogues: texts live in `locales/<language>/*.toml`; code holds keys.

A key is `<file>.<name>` (e.g. `common.unknown_command`). Values are HTML for Telegram's HTML
parse mode; parameters are escaped unless passed as `Html`. A missing translation falls back to
English.

- **Plurals:** a value may be a table of CLDR plural categories (`name.one = "..."`,
  `name.other = "..."`, and `zero`, `two`, `few`, `many` where the language has them); the
  parameter `count` chooses the form by the language's plural rules (Babel).
- **Numbers, dates and times** given as parameters are written by Babel in the language: an
  `int` as "12,345" / "12.345", a `date` as "Sat, 21 Nov 2026", a `time` as "18:30", an aware
  `datetime` as day and time in its own time zone (convert it to the register's zone first).
- **Right to left:** in Arabic, every run of left-to-right text (numbers, IMEIs, references,
  access codes, phone numbers, URLs, Latin words) is wrapped in Unicode isolates (LRI … PDI) so
  that it stays left to right inside the right-to-left sentence.
- **Errors:** `describe(error, language)` puts a `RegisterError` into words (`errors.<code>`).
"""

from __future__ import annotations

import html
import re
import string
import tomllib
import unicodedata
from datetime import date, datetime, time
from functools import cache
from typing import Any

from handlers.i18n import formats
from handlers.i18n.languages import LOCALES_DIR, available, is_rtl
from models.errors import RegisterError

FALLBACK = "en"
MAX_MESSAGE_LENGTH = 4096
PLURAL_PARAMETER = "count"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"

Template = str | dict[str, str]


class Html(str):
    """A parameter that is already safe HTML and must not be escaped again."""

    __slots__ = ()


def _flatten(prefix: str, table: dict[str, Any], entries: dict[str, Template]) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}"
        if isinstance(value, str):
            entries[key] = value
        elif isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            entries[key] = dict(value)  # a plural table
        else:
            raise ValueError(f"{key}: a text must be a string or a table of plural forms")


@cache
def _catalogue(language: str) -> dict[str, Template]:
    entries: dict[str, Template] = {}
    folder = LOCALES_DIR / language
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as handle:
            _flatten(path.stem, tomllib.load(handle), entries)
    return entries


def catalogue(language: str) -> dict[str, Template]:
    """Every key of LANGUAGE's own catalogue (no English fallback), for checks and tools."""
    return dict(_catalogue(language))


def languages() -> list[str]:
    """The languages that have a catalogue, in the order they are offered (English first)."""
    return list(available())


def has(key: str, language: str = FALLBACK) -> bool:
    """Whether KEY exists in LANGUAGE or in English."""
    return key in _catalogue(language) or key in _catalogue(FALLBACK)


def _template(key: str, language: str) -> Template:
    found = _catalogue(language).get(key)
    if found is None:
        found = _catalogue(FALLBACK).get(key)
    if found is None:
        raise KeyError(f"no text for {key!r}")
    return found


def _plural(key: str, table: dict[str, str], language: str, params: dict[str, object]) -> str:
    count = params.get(PLURAL_PARAMETER)
    if not isinstance(count, int | float) or isinstance(count, bool):
        raise KeyError(f"{key!r} has plural forms: give ${PLURAL_PARAMETER} as a number")
    category = formats.plural_category(count, language)
    form = table.get(category) or table.get("other")
    if form is None:
        raise KeyError(f"{key!r} has no {category!r} nor 'other' form")
    return form


def _render(value: object, language: str) -> str:
    """One parameter as safe HTML in LANGUAGE."""
    if isinstance(value, Html):
        return str(value)
    if isinstance(value, bool):
        shown = str(value)
    elif isinstance(value, int | float):
        shown = formats.number(value, language)
    elif isinstance(value, datetime):
        shown = formats.moment(value, language)
    elif isinstance(value, date):
        shown = formats.day(value, language)
    elif isinstance(value, time):
        shown = formats.time_of_day(value, language)
    else:
        shown = str(value)
    return html.escape(shown, quote=False)


def text(key: str, language: str | None = None, /, **params: object) -> str:
    """The text for KEY in LANGUAGE, with PARAMS filled in (escaped unless `Html`)."""
    language = language or FALLBACK
    template = _template(key, language)
    if isinstance(template, dict):
        template = _plural(key, template, language, params)
    safe = {name: _render(value, language) for name, value in params.items()}
    filled = string.Template(template).substitute(safe).strip()
    return isolate_ltr(filled) if is_rtl(language) else filled


def escape(value: object) -> str:
    """User text made safe for HTML parse mode."""
    return html.escape(str(value), quote=False)


# --- right to left ----------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
# A left-to-right run: starts with a Latin letter, a digit or a sign that begins a number, code or
# link; goes on over Latin letters, digits, entities and the punctuation inside numbers, codes and
# URLs (spaces only between two such pieces); never ends in sentence punctuation.
_LTR_CHAR = r"(?:[A-Za-z0-9\u00C0-\u024F]|&(?:amp|lt|gt|quot|#\d+);)"
# Spaces, never line breaks: an isolate ends with its paragraph.
_INNER = r"(?:[-./:@_+*#=?%~()'’,]|[ \t\u00a0\u202f])"
_LTR_RUN = re.compile(
    rf"(?:[+*#/@(]*{_LTR_CHAR})(?:{_INNER}*(?:{_LTR_CHAR}|[*#%/)]))*(?:[*#%/)](?=\s|$))?"
)


def _isolated(run: str) -> str:
    """RUN in LRI … PDI, leaving outside a bracket that belongs to the sentence around it."""
    head = tail = ""
    while run.endswith(")") and run.count(")") > run.count("("):
        run, tail = run[:-1], ")" + tail
    while run.startswith("(") and run.count("(") > run.count(")"):
        head, run = head + "(", run[1:]
    return f"{head}{LRI}{run}{PDI}{tail}" if run else head + tail


def _wrap_runs(segment: str) -> str:
    """Wrap each left-to-right run of a text segment (no tags, no isolates) in LRI … PDI."""
    return _LTR_RUN.sub(lambda match: _isolated(match.group(0)), segment)


def isolate_ltr(html_text: str) -> str:
    """HTML_TEXT with its left-to-right runs isolated, for a right-to-left language.

    Tags are left alone; text already inside isolates is left alone; an element holding nothing
    but one left-to-right run (e.g. <code>SPR-7KQ4-M9</code>) is isolated as a whole, so that
    copying its text copies no invisible mark.
    """
    pieces = re.split(f"({_TAG.pattern})", html_text)
    out: list[str] = []
    depth = 0
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        if _TAG.fullmatch(piece):
            closing = pieces[index + 2] if index + 2 < len(pieces) else ""
            inner = pieces[index + 1] if index + 1 < len(pieces) else ""
            if (
                depth == 0
                and not piece.startswith("</")
                and closing.startswith("</")
                and inner
                and _LTR_RUN.fullmatch(inner)
            ):
                out.append(f"{LRI}{piece}{inner}{closing}{PDI}")
                index += 3
                continue
            out.append(piece)
            index += 1
            continue
        text_out: list[str] = []
        for char_or_run in re.split(f"([{LRI}{RLI}{FSI}{PDI}])", piece):
            if char_or_run in (LRI, RLI, FSI):
                depth += 1
                text_out.append(char_or_run)
            elif char_or_run == PDI:
                depth = max(0, depth - 1)
                text_out.append(char_or_run)
            elif depth == 0:
                text_out.append(_wrap_runs(char_or_run))
            else:
                text_out.append(char_or_run)
        out.append("".join(text_out))
        index += 1
    return "".join(out)


# --- errors -----------------------------------------------------------------------------------

ERRORS = "errors"


def _character(char: str, language: str) -> Html:
    """How a refused character is named: itself in quotes, or its code point if invisible."""
    visible = (
        char.isprintable() and not char.isspace() and unicodedata.category(char)[0] not in "MC"
    )
    if visible:
        return Html(text(f"{ERRORS}.character_shown", language, character=char))
    return Html(text(f"{ERRORS}.character_hidden", language, codepoint=f"{ord(char):04X}"))


def _error_param(name: str, value: object, language: str) -> object:
    if name == "character" and isinstance(value, str) and len(value) == 1:
        return _character(value, language)
    if name.endswith("region") and isinstance(value, str):
        return formats.territory(value, language)
    return value


def describe(error: RegisterError, language: str | None = None, *, html_text: bool = True) -> str:
    """What ERROR means, in LANGUAGE (catalogue key `errors.<code>`); plain text if not HTML_TEXT.

    Parameters are written in the language: a `character` named (or its code point, when it is
    invisible), a `*region` as the country's name, numbers, days and times by Babel.
    """
    language = language or FALLBACK
    params = {name: _error_param(name, value, language) for name, value in error.params.items()}
    rendered = text(f"{ERRORS}.{error.code}", language, **params)
    return rendered if html_text else plain(rendered)


def plain(html_text: str) -> str:
    """Telegram HTML as plain text (for the command line): tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", html_text))


def split_message(html_text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """HTML cut at line ends into messages within LIMIT (our tags never span lines)."""
    parts: list[str] = []
    current = ""
    for line in html_text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            parts.append(current)
            candidate = line
        current = candidate
    parts.append(current)
    return [part for part in parts if part.strip()] or [html_text]
