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


@lru_cache(maxsize=65536)
def char_script(ch: str) -> str | None:
    """ISO 15924 code of one letter, or None for non-letters and unknown scripts."""
    if not ch.isalpha():
        return None
    try:
        words = unicodedata.name(ch).split(" ", 2)
    except ValueError:
        return None
    first = words[1] if words[0] in {"FULLWIDTH", "HALFWIDTH"} and len(words) > 1 else words[0]
    return _NAME_TO_SCRIPT.get(first, "Zyyy")


# Scripts written together in one language: a run of them is not split.
_SCRIPT_FAMILY = {"Hira": "Hani", "Kana": "Hani", "Bopo": "Hani", "Hang": "Hani"}


# Letters outside Latin (Basic Latin, Latin-1, Latin Extended-A/B, IPA, Latin Extended
# Additional): when a line has none, it is one Latin run and needs no per-character look-up.
_NON_LATIN_LETTER = re.compile(r"[^\W\d_\u0000-\u02af\u1e00-\u1eff]")
_NON_LETTERS = re.compile(r"[\W\d_]+")


def letter_count(text: str) -> int:
    return len(text) - sum(map(len, _NON_LETTERS.findall(text)))


def script_runs_counted(line: str, counts: Counter[str]) -> list[tuple[str, int]]:
    """Split a line where the script of its letters changes (e.g. an Arabic phrase inside an
    English sentence) into (run, letters in it), adding each letter's script to ``counts``.
    Spaces, digits and punctuation stay with the run they are in; Han, kana and Hangul count
    as one family so Japanese and Korean are not cut apart."""
    if not _NON_LATIN_LETTER.search(line):
        letters = letter_count(line)
        if letters:
            counts["Latn"] += letters
        stripped = line.strip()
        return [(stripped, letters)] if stripped else []
    runs: list[tuple[str, int]] = []
    start = 0
    letters = 0
    current: str | None = None
    for i, ch in enumerate(line):
        code = char_script(ch)
        if code is None:
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
