"""Mojibake repair: UTF-8 text that was decoded as Latin-1/cp1252 somewhere on its way
("MÃ¼ller", "donâ€™t"). ftfy is slow (~300 documents/s), so a cheap check runs first and ftfy
only sees the suspects."""

from __future__ import annotations

import re

import ftfy

# Mojibake: UTF-8 read as Latin-1/cp1252 ("Ã¼", "â€™", "Â "). Checked before the slow repair.
_MOJIBAKE = re.compile(
    "[ÃÂâ][\u0080-\u00bf\u2018-\u201e\u2020-\u2022\u2026\u2030\u20ac"
    "\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2122]"
)


def repair(text: str) -> tuple[str, bool]:
    """The repaired text and whether anything changed."""
    if not ("Ã" in text or "Â" in text or "â" in text) or not _MOJIBAKE.search(text):
        return text, False
    fixed = ftfy.fix_text(text, normalization="NFC")
    return fixed, fixed != text
