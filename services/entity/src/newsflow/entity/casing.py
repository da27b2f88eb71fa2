"""All-capital lines (headlines, datelines, sports tables, shouted copies) read in title case.

A pipeline learns names from their capitals: in a line where every word is in capitals it sees
no names, or only names. Such a line is given to the pipeline with each word's first letter kept
and the rest lower-cased; the entities found are then cut from the original text. Only characters
whose lower case is one character are changed, so every offset stays valid.
"""

from __future__ import annotations

import re

_LINE = re.compile(r"[^\n]+")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def is_shouted(line: str, *, min_letters: int = 6, share: float = 0.9) -> bool:
    """Whether a line is written in capitals: at least ``min_letters`` cased letters, ``share``
    of them upper case, and a word of five letters or more (a dateline such as "BELGRADE
    1996-08-30" is shouted; "NATO" or "BBC, CNN" are acronyms, not shouting)."""
    cased = [ch for ch in line if ch.isupper() or ch.islower()]
    if len(cased) < min_letters:
        return False
    if not any(len(w) >= 5 for w in _WORD.findall(line)):
        return False
    return sum(ch.isupper() for ch in cased) >= share * len(cased)


def _title_word(match: re.Match[str]) -> str:
    word = match.group(0)
    rest = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in word[1:])
    return word[0] + rest


def unshout(text: str) -> str:
    """``text`` with its all-capital lines in title case; the same length, offsets unchanged."""
    if not any(ch.isupper() for ch in text):
        return text

    def line(match: re.Match[str]) -> str:
        value = match.group(0)
        return _WORD.sub(_title_word, value) if is_shouted(value) else value

    out = _LINE.sub(line, text)
    return out if len(out) == len(text) else text
