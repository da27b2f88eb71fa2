"""Writing-system detection: the dominant ISO 15924 script of a text's letters."""

from __future__ import annotations

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
}  # fmt: skip


@lru_cache(maxsize=65536)
def char_script(ch: str) -> str | None:
    """ISO 15924 code of one letter, or None for non-letters and unknown scripts."""
    if not ch.isalpha():
        return None
    try:
        first = unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return None
    return _NAME_TO_SCRIPT.get(first, "Zyyy")


def script_counts(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for ch in text:
        code = char_script(ch)
        if code is not None:
            counts[code] += 1
    return counts


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
