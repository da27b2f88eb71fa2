"""Country names from ISO 3166 (the ``pycountry`` package), in the languages newsflow reads.

A name that is exactly a country's name is a place (LOC), whatever a pipeline labelled it: a
small pipeline reads "Nigeria" in a results table as a person, and "AUSTRIA" in a shouted
headline not at all. The names are ISO 3166-1 (current countries: name, common and official
names; the part before the comma of "Korea, Republic of"), ISO 3166-3 (former countries:
Yugoslavia, Zaire) and the countries of the United Kingdom from ISO 3166-2, with pycountry's
translations for the reading language. No list is written here by hand.

:func:`find_countries` gives the country names in a text that are names on their own: not a
word of a longer capitalised name ("New Zealand" is not "Zealand"; "Bank of England" is not
"England"), except on a line in capitals, where every word is capitalised.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import pycountry

# Words that may stand inside a country name ("Bosnia and Herzegovina").
_INNER = frozenset(
    "of and the de del da do das dos di du des la le und och og en van von der".split()
)
# Words after which a capitalised name goes on: "Bank of England", "Universidad de Chile".
_OF = frozenset({"of", "de", "del", "da", "do", "das", "dos", "di", "du", "des", "van", "von"})
_WORD = re.compile(r"[^\W\d_](?:[\w'’.]*[^\W_])?|\S", re.UNICODE)
# Names of one to three letters ("Man", "USA") are left to the pipelines.
_MIN_LETTERS = 4


def _forms(name: str) -> Iterator[str]:
    name = re.sub(r"\s*\[.*?\]", "", name).strip()  # "Wales [Cymru GB-CYM]"
    yield name
    if ", " in name:
        yield name.split(", ", 1)[0]  # "Korea, Republic of" -> "Korea"


def _english_names() -> Iterator[str]:
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                yield value
    for old in pycountry.historic_countries:
        yield old.name
    for sub in pycountry.subdivisions:
        if sub.country_code == "GB" and sub.type in ("Country", "Province"):
            yield sub.name


def _translated(language: str, names: list[str]) -> Iterator[str]:
    for domain in ("iso3166-1", "iso3166-3"):
        try:
            t = gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language])
        except FileNotFoundError:
            continue
        for name in names:
            value = t.gettext(name)
            if value != name:
                yield value


def _key(words: list[str]) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", w).casefold() for w in words)


@lru_cache(maxsize=32)
def country_names(language: str) -> dict[str, list[tuple[str, ...]]]:
    """Country names of ``language`` (and English ones, which news in every language uses), as
    word tuples, indexed by their first word; longest first."""
    base = list(_english_names())
    primary = language.split("-", 1)[0]
    names = {form for n in [*base, *_translated(primary, base)] for form in _forms(n)}
    index: dict[str, list[tuple[str, ...]]] = {}
    for name in names:
        words = _WORD.findall(name)
        if sum(ch.isalpha() for ch in name) < _MIN_LETTERS or not words[0][0].isupper():
            continue
        key = _key(words)
        index.setdefault(key[0], []).append(key)
    for entries in index.values():
        entries.sort(key=len, reverse=True)
    return index


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    shouted: bool  # on a line in capitals


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def find_countries(text: str, language: str, shouted_lines: list[tuple[int, int]]) -> list[Match]:
    """Country names standing on their own in ``text`` (read with its shouted lines in title
    case, see :mod:`casing`); ``shouted_lines`` are the (start, end) of the lines that were in
    capitals, where the neighbour rule is not applied."""
    index = country_names(language)
    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    keys = [w[2].casefold() for w in words]
    out: list[Match] = []
    i = 0
    while i < len(words):
        start, _, word = words[i]
        entries = index.get(keys[i]) if _capitalised(word) else None
        found = None
        for entry in entries or ():
            n = len(entry)
            if tuple(keys[i : i + n]) == entry and all(
                _capitalised(w[2]) or w[2] in _INNER for w in words[i : i + n]
            ):
                found = n
                break
        if not found:
            i += 1
            continue
        end = words[i + found - 1][1]
        shouted = any(a <= start < b for a, b in shouted_lines)
        hyphened = text[end : end + 1] in "-‐" and text[end + 1 : end + 2].isalpha()
        hyphened = hyphened or (start > 0 and text[start - 1] in "-‐")  # "Austria-based"
        if not hyphened and (shouted or _stands_alone(text, words, i, i + found)):
            out.append(Match(start, end, shouted))
        i += found
    return out


def _stands_alone(text: str, words: list[tuple[int, int, str]], first: int, after: int) -> bool:
    """Not part of a longer capitalised name: the next word is not capitalised (or not on the
    same line), and the previous one is not, unless a sentence or line ends before it, nor is
    it a connector after a capitalised word ("Bank of England")."""

    def same_line(a: int, b: int) -> bool:
        return "\n" not in text[a:b]

    if after < len(words):
        nxt = words[after]
        if _capitalised(nxt[2]) and same_line(words[after - 1][1], nxt[0]):
            return False
    if first > 0:
        prev = words[first - 1]
        gap = text[prev[1] : words[first][0]]
        if same_line(prev[1], words[first][0]) and gap.strip() == "":
            if prev[2] in _OF and first > 1 and _capitalised(words[first - 2][2]):
                return False
            if _capitalised(prev[2]) and not _sentence_start(text, words, first - 1):
                return False
    return True


def _sentence_start(text: str, words: list[tuple[int, int, str]], index: int) -> bool:
    """Whether word ``index`` begins a sentence or a line (a capital there says nothing)."""
    if index == 0:
        return True
    before = text[words[index - 1][1] : words[index][0]]
    return "\n" in before or words[index - 1][2] in {".", "!", "?", ":", ";", '"', "“", "-", "–"}
