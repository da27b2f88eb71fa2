"""Writing-system detection: the dominant ISO 15924 script of a text's letters."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import cache, lru_cache

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


# Letters in the Latin-1 block whose Unicode names do not say LATIN.
_LATIN_1_LETTERS = {"\u00aa": "Latn", "\u00b5": "Latn", "\u00ba": "Latn"}


def _classify(ch: str) -> str | None:
    """ISO 15924 code of a letter, INHERITED for a combining mark, None for anything else."""
    if ch in _LATIN_1_LETTERS:
        return _LATIN_1_LETTERS[ch]
    if not ch.isalpha():
        return INHERITED if unicodedata.category(ch)[0] == "M" else None
    try:
        words = unicodedata.name(ch).split(" ", 2)
    except ValueError:
        return None
    first = words[1] if words[0] in {"FULLWIDTH", "HALFWIDTH"} and len(words) > 1 else words[0]
    return _NAME_TO_SCRIPT.get(first, "Zyyy")


_char_class = lru_cache(maxsize=65536)(_classify)


def char_script(ch: str) -> str | None:
    """ISO 15924 code of one letter, or None for non-letters (marks included) and unknown
    scripts."""
    code = _char_class(ch)
    return None if code == INHERITED else code


# Scripts written together in one language: a run of them is not split.
_SCRIPT_FAMILY = {"Hira": "Hani", "Kana": "Hani", "Bopo": "Hani", "Hang": "Hani"}


# Letters outside Latin (Basic Latin, Latin-1, Latin Extended-A/B, IPA, Latin Extended
# Additional): when a line has none, it is one Latin run and needs no per-character look-up.
NON_LATIN_LETTER = re.compile(r"[^\W\d_\u0000-\u02af\u1e00-\u1eff]")
# In such a line: everything but Latin letters, combining diacritics and spaces. Spelled out
# as ranges, which the regex engine tests several times faster than Unicode categories.
LATIN_NON_LETTER = re.compile(
    "[^ A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02af\u1e00-\u1eff"
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff]"
)


def _class_text(codepoints: list[int]) -> str:
    """A regex character-class body for sorted code points, as ranges."""
    parts: list[str] = []
    start = prev = codepoints[0]
    for cp in [*codepoints[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
        start = prev = cp
    return "".join(parts)


@cache
def _bmp_classes() -> dict[str, list[int]]:
    """Code points of the Basic Multilingual Plane by class: script code or INHERITED."""
    table: dict[str, list[int]] = {}
    for cp in range(0x10000):
        code = _classify(chr(cp))
        if code is not None:
            table.setdefault(code, []).append(cp)
    return table


@cache
def _outside_family(family: str) -> re.Pattern[str]:
    """Everything but the ASCII space, combining marks and the letters of a script family.
    Spelled out as ranges of the Basic Multilingual Plane, which the regex engine tests with a
    bitmap, several times faster than Unicode categories or a per-character look-up."""
    table = _bmp_classes()
    codepoints = sorted(
        cp
        for code, cps in table.items()
        if code == INHERITED or (code != "Zyyy" and _SCRIPT_FAMILY.get(code, code) == family)
        for cp in cps
    )
    return re.compile(f"[^ {_class_text(codepoints)}]")


@cache
def _letters_of(codes: tuple[str, ...]) -> re.Pattern[str]:
    """Stretches of letters of these scripts (counted by their lengths: fewer, larger
    matches than one per letter)."""
    table = _bmp_classes()
    return re.compile(f"[{_class_text(sorted(cp for code in codes for cp in table[code]))}]+")


def warm_up() -> None:
    """Build the per-script tables now, not on the first line in each script: one family
    alone, and each family beside Latin (the usual mix)."""
    for family in {_SCRIPT_FAMILY.get(code, code) for code in _NAME_TO_SCRIPT.values()}:
        _outside_family(family)
        _family_runs(tuple(sorted({family, "Latn"})))
    _letters_of(_CJK_COUNTED)
    _letters_of(_NOT_HANGUL)
    for code in _CJK_COUNTED:
        _letters_of((code,))


# Scripts of the Han family counted on their own (the script rules need kana and Hangul).
_CJK_COUNTED = ("Hira", "Kana", "Hang", "Bopo")
# The other letters of the Han family.
_NOT_HANGUL = ("Hani", "Hira", "Kana", "Bopo")


def script_runs_counted(line: str, counts: Counter[str]) -> list[tuple[str, int]]:
    """Split a line where the script of its letters changes (e.g. an Arabic phrase inside an
    English sentence) into (run, letters in it), adding each letter's script to ``counts``.
    Spaces, digits and punctuation stay with the run they are in; combining marks count as
    letters of the run they are in (and of its script); Han, kana and Hangul count as one
    family so Japanese and Korean are not cut apart."""
    line = line.strip()
    if not line:
        return []
    first = NON_LATIN_LETTER.search(line)
    if first is None:
        # Cheaper than a per-character look-up: the non-letters of a cleaned line are mostly
        # single spaces, and the rest (punctuation) is rare.
        letters = len(line) - line.count(" ") - len(LATIN_NON_LETTER.findall(line))
        if letters:
            counts["Latn"] += letters
        return [(line, letters)]
    code = _char_class(first.group())
    if code is not None and code != "Zyyy":
        # The common non-Latin line has letters of one script family only: one regex pass
        # finds everything else, and if none of it is a letter, the line is one run.
        family = _SCRIPT_FAMILY.get(code, code)
        found = _outside_family(family).findall(line)
        foreign = {c for c in map(_char_class, set(found)) if c is not None}  # other scripts
        if not foreign:
            letters = len(line) - line.count(" ") - len(found)
            _count_run(counts, family, line, letters)
            return [(line, letters)]
        if "Zyyy" not in foreign:  # a mix of known scripts: split at their words
            families = {family, *(_SCRIPT_FAMILY.get(c, c) for c in foreign)}
            return _runs_by_spans(line, counts, tuple(sorted(families)))
    return _runs_by_characters(line, counts)


@lru_cache(maxsize=256)
def _family_runs(families: tuple[str, ...]) -> re.Pattern[str]:
    """A run of each family: one of its letters, then everything up to the next letter of
    another of ``families`` (one named group per family)."""
    table = _bmp_classes()
    letters = {
        family: sorted(
            cp
            for code, cps in table.items()
            if code not in {"Zyyy", INHERITED} and _SCRIPT_FAMILY.get(code, code) == family
            for cp in cps
        )
        for family in families
    }
    branches = []
    for family in families:
        others = sorted(cp for f in families if f != family for cp in letters[f])
        rest = f"[^{_class_text(others)}]*" if others else "(?s:.)*"
        branches.append(f"(?P<{family}>[{_class_text(letters[family])}]{rest})")
    return re.compile("|".join(branches))


@cache
def _marks() -> re.Pattern[str]:
    return re.compile(f"[{_class_text(_bmp_classes()[INHERITED])}]+")


def _runs_by_spans(
    line: str, counts: Counter[str], families: tuple[str, ...]
) -> list[tuple[str, int]]:
    """Runs of a line mixing scripts: a run starts at the first letter of another family and
    holds everything up to the next such letter (the first run also what precedes its first
    letter); its letters are those of its family and the combining marks in it. One regex
    match per run, not per character or word."""
    found = list(_family_runs(families).finditer(line))
    if not found:
        return []
    runs: list[tuple[str, int]] = []
    for i, match in enumerate(found):
        family = match.lastgroup
        assert family is not None
        run = line[: match.end()] if i == 0 else match.group()
        # In a run, what is not a space and not outside the family is its letter or a mark.
        letters = len(run) - run.count(" ") - len(_outside_family(family).findall(run))
        # Marks before the first letter are letters of the first run but of no script.
        leading = sum(map(len, _marks().findall(line, 0, match.start()))) if i == 0 else 0
        runs.append((run, letters))
        _count_run(counts, family, run, letters - leading)
    return [(r.strip(), n) for r, n in runs if r.strip()]


def _count_run(counts: Counter[str], family: str, run: str, letters: int) -> None:
    """Add a run's letters to its script; a Han-family run per script (kana, Hangul, Han)."""
    if family == "Hani":
        if _marks().search(run):  # rare here: a mark counts towards the letter before it,
            _runs_by_characters(run, counts)  # as the per-character loop counts them
            return
        members: dict[str, int] = {}
        left = letters  # Han: what the counted members leave
        if not _letters_of(_NOT_HANGUL).search(run):
            members["Hang"] = letters  # Korean: one pass finds nothing but Hangul
            left = 0
        elif _letters_of(_CJK_COUNTED).search(run):  # else all Han, as in Chinese
            for member in _CJK_COUNTED:
                if n := sum(map(len, _letters_of((member,)).findall(run))):
                    members[member] = n
                    left -= n
        if left:
            members["Hani"] = left
        counts.update(members)
    elif letters:
        counts[family] += letters


def _runs_by_characters(line: str, counts: Counter[str]) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    start = 0
    letters = 0
    current: str | None = None
    script: str | None = None  # of the last letter: a combining mark counts towards it
    for i, ch in enumerate(line):
        code = _char_class(ch)
        if code is None:
            continue
        if code == INHERITED:
            letters += 1
            if script is not None:
                counts[script] += 1
            continue
        counts[code] += 1
        script = code
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
