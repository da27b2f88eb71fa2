"""Writing-system detection: the dominant ISO 15924 script of a text's letters."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

# First word of the Unicode character name -> ISO 15924 code.
_NAME_TO_SCRIPT = {
    "LATIN": "Latn", "CYRILLIC": "Cyrl", "GREEK": "Grek", "ARABIC": "Arab", "HEBREW": "Hebr",
    "ARMENIAN": "Armn", "GEORGIAN": "Geor", "DEVANAGARI": "Deva", "BENGALI": "Beng",
    "GURMUKHI": "Guru", "GUJARATI": "Gujr", "ORIYA": "Orya", "TAMIL": "Taml", "TELUGU": "Telu",
    "KANNADA": "Knda", "MALAYALAM": "Mlym", "SINHALA": "Sinh", "THAI": "Thai", "LAO": "Laoo",
    "TIBETAN": "Tibt", "MYANMAR": "Mymr", "KHMER": "Khmr", "HANGUL": "Hang", "HIRAGANA": "Hira",
    "KATAKANA": "Kana", "CJK": "Hani", "ETHIOPIC": "Ethi", "MONGOLIAN": "Mong", "SYRIAC": "Syrc",
    "THAANA": "Thaa", "CHEROKEE": "Cher", "TIFINAGH": "Tfng", "YI": "Yiii", "BOPOMOFO": "Bopo",
    "KATAKANA-HIRAGANA": "Kana",
}  # fmt: skip


# Inherited script (ISO 15924 Zinh): combining marks, e.g. the vowel signs of Devanagari or
# Bengali and Arabic harakat. They are letters of the word they sit on, in its script.
INHERITED = "Zinh"


@lru_cache(maxsize=65536)
def _char_class(ch: str) -> str | None:
    if not ch.isalpha():
        return INHERITED if unicodedata.category(ch)[0] == "M" else None
    try:
        words = unicodedata.name(ch).split(" ", 2)
    except ValueError:
        return None
    first = words[1] if words[0] in {"FULLWIDTH", "HALFWIDTH"} and len(words) > 1 else words[0]
    return _NAME_TO_SCRIPT.get(first, "Zyyy")


def char_script(ch: str) -> str | None:
    """ISO 15924 code of one letter, or None for non-letters (marks included) and unknown
    scripts."""
    code = _char_class(ch)
    return None if code == INHERITED else code


# Scripts written together in one language: a run of them is not split.
_SCRIPT_FAMILY = {"Hira": "Hani", "Kana": "Hani", "Bopo": "Hani", "Hang": "Hani"}


# Letters outside Latin (Basic Latin, Latin-1, Latin Extended-A/B, IPA, Latin Extended
# Additional): when a line has none, it is one Latin run and needs no per-character look-up.
_NON_LATIN_LETTER = re.compile(r"[^\W\d_\u0000-\u02af\u1e00-\u1eff]")
# In such a line: everything but Latin letters, combining diacritics and spaces. Spelled out
# as ranges, which the regex engine tests several times faster than Unicode categories.
_LATIN_NON_LETTER = re.compile(
    "[^ A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02af\u1e00-\u1eff"
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff]"
)


def script_runs_counted(line: str, counts: Counter[str]) -> list[tuple[str, int]]:
    """Split a line where the script of its letters changes (e.g. an Arabic phrase inside an
    English sentence) into (run, letters in it), adding each letter's script to ``counts``.
    Spaces, digits and punctuation stay with the run they are in; combining marks count as
    letters of the run they are in; Han, kana and Hangul count as one family so Japanese and
    Korean are not cut apart."""
    line = line.strip()
    if not line:
        return []
    if not _NON_LATIN_LETTER.search(line):
        # Cheaper than a per-character look-up: the non-letters of a cleaned line are mostly
        # single spaces, and the rest (punctuation) is rare.
        letters = len(line) - line.count(" ") - len(_LATIN_NON_LETTER.findall(line))
        if letters:
            counts["Latn"] += letters
        return [(line, letters)]
    runs: list[tuple[str, int]] = []
    start = 0
    letters = 0
    current: str | None = None
    for i, ch in enumerate(line):
        code = _char_class(ch)
        if code is None:
            continue
        if code == INHERITED:
            letters += 1
            continue
        counts[code] += 1
        if code != "Zyyy":
            family = _SCRIPT_FAMILY.get(code, code)
            if current is not None and family != current:
                runs.append((line[start:i], letters))
                start, letters = i, 0
            current = family
        letters += 1
    runs.append((line[start:], letters))
    return [(r.strip(), n) for r, n in runs if r.strip()]


def dominant_script(counts: Counter[str], language: str | None = None) -> str | None:
    """The script most letters are in; Japanese and Korean mixes get their composite codes."""
    if not counts:
        return None
    if language == "ja" and (counts["Hira"] or counts["Kana"]):
        return "Jpan"
    if language == "ko" and counts["Hang"]:
        return "Kore"
    code, _ = counts.most_common(1)[0]
    return code
