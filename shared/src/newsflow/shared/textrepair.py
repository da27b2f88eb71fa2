"""Mojibake repair: UTF-8 text that was decoded with a single-byte code page somewhere on its
way: Windows-1252/Latin-1 ("MÃ¼ller", "donâ€™t", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "ä¸­æ–‡"), Windows-1250
("PĹ™Ă­klad") or Windows-1251 ("РџСЂРёРІРµС‚"). ftfy is slow (~300 documents/s), so a cheap
check runs first and ftfy only sees the suspects (it leaves text alone that only looked
suspect)."""

from __future__ import annotations

import ftfy

# Code pages whose misreading of UTF-8 is looked for: the characters it makes of common UTF-8
# lead bytes, one of which a suspect must contain (a substring test costs ~0.1 us on a news
# article, the check below ~10 us per code page), and how many UTF-8 sequences the text must
# turn back into. Lead bytes: C2-C5 (Latin-1 and Latin Extended-A letters, "â" E2 for
# punctuation), CE-CF (Greek), D0-D1 (Cyrillic), D7 (Hebrew), D8-D9 (Arabic), E3 (kana) and
# E5-E9 (CJK; a Chinese or Japanese text without any of them is implausible). Windows-1251
# makes Cyrillic capitals of the Cyrillic lead bytes, and a few real pairs turn into a sequence
# too (Ukrainian "Сі": D1 B3), so it takes three.
_ASCII = bytes(range(0x80))
_LEADS = bytes([0xC2, 0xC3, 0xC4, 0xC5, 0xCE, 0xCF, 0xD0, 0xD1, 0xD7, 0xD8, 0xD9, 0xE2, 0xE3])
_LEADS += bytes(range(0xE5, 0xEA))
_CODE_PAGES = tuple(
    (codec, _LEADS.decode(codec), needed)
    for codec, needed in (("cp1252", 1), ("cp1250", 1), ("cp1251", 3))
)


def looks_broken(text: str) -> bool:
    """Whether the text may hold mojibake: encoded back with a code page, it holds UTF-8
    multi-byte sequences (real text in that code page holds none, or only by chance: "Ä"
    followed by "„"). Cheap: substring tests, then an encode and a decode in C per code page
    whose lead characters are present; ftfy decides."""
    if text.isascii():
        return False
    for codec, leads, needed in _CODE_PAGES:
        if not any(lead in text for lead in leads):
            continue
        raw = text.encode(codec, errors="ignore")
        ascii_bytes = len(raw) - len(raw.translate(None, _ASCII))
        decoded = raw.decode("utf-8", errors="replace")
        # ASCII bytes decode to themselves; what else is not U+FFFD (a stray byte, or the
        # start of a sequence cut short) is a multi-byte sequence.
        if len(decoded) - ascii_bytes - decoded.count("\ufffd") >= needed:
            return True
    return False


# ftfy's fixes of encoding damage only: curly quotes, ligatures, full-width letters, line breaks
# and HTML entities of a text that merely looked suspect stay as they were.
_ENCODING_ONLY = ftfy.TextFixerConfig(
    unescape_html=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    normalization="NFC",
)


def repair(text: str) -> tuple[str, bool]:
    """The repaired text and whether anything changed."""
    if not looks_broken(text):
        return text, False
    fixed = ftfy.fix_text(text, _ENCODING_ONLY)
    return fixed, fixed != text
