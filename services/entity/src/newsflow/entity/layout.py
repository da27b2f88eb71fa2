"""Names whose type the layout of their line decides: datelines, results tables, fixtures.

Pipelines learn from running prose; news also has lines that are not prose, and there a
name's place in the line says what it is better than its neighbours do:

- a **dateline** ("BUCHAREST 1996-08-30", "NICE, France 1996-08-30", "BERLIN (dpa) - ...",
  "WASHINGTON, Dec 5 (Reuters) -"): the place the story was filed from, LOC;
- a **results or standings line** ("Leeds 2 Arsenal 1", "Barnet 4 1 2 1 4 2 5", "Middlesex
  199 and 426", "Benetton (Italy) 92 Dinamo (Russia) 81"): a name followed by its score is a
  team, ORG; a country's name there is its national team, which news annotation (CoNLL, the
  OntoNotes guidelines) labels as the country, LOC; a person the pipeline found with a full
  name ("Tiger Woods 66 67") stays a person;
- a **fixture** line ("Kansas City at Detroit", "Essex v Kent"): two teams, ORG.

:func:`apply_layout` takes the spans a pipeline found in one text and gives them back with
these lines' names relabelled, added or re-cut, and with country names (:mod:`gazetteer`)
labelled LOC. It works on the text as the pipeline read it (all-capital lines in title case),
so offsets are those of the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from newsflow.entity.casing import is_shouted
from newsflow.entity.gazetteer import country_names, find_countries

Span = tuple[int, int, str]

# Languages written without spaces between words: the rules need words.
_UNSPACED = frozenset({"zh", "ja", "th", "lo", "km", "my"})
_TOKEN = re.compile(r"\S+")
_NUMBER = re.compile(r"^\(?[+\-]?(?:\d+(?:[.,:/\-–]\d+)*|\.\d+)[)%]?\.?$")
_MAX_TEAM_WORDS = 4
# A results line: at least this share of its words are numbers (scores, points, overs).
_NUMBER_SHARE = 0.2
# "Essex v Kent": two teams; "Kansas City at Detroit": a team, and the place it plays at.
_FIXTURE = frozenset({"v", "v.", "vs", "vs."})
_FIXTURE_AT = frozenset({"at", "@"})
_FIXTURE_WORDS = _FIXTURE | _FIXTURE_AT
_INITIAL = re.compile(r"^[A-ZÀ-Þ]\.")  # "J. Pooley", "T.O'Gorman": a player
_FIGURES = re.compile(r"^\d+(?:\.\d+)?(?:-\d+){2,}$")  # bowling figures "8-0-37-2"
_INTEGER_SCORE = re.compile(r"^\(?\d+(?:-\d+)?\)?[.,]?$")  # "2", "532-8", not "12.50"
# Words that stand between the words of a team's name ("Brighton and Hove Albion").
_NAME_INNER = frozenset({"&", "and", "de", "of", "del", "la", "di", "'s", "’s"})
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}"
_SHOUTED_NAME = r"[A-ZÀ-Þ][A-ZÀ-Þ.'’\-]{2,}(?:\s+[A-ZÀ-Þ][A-ZÀ-Þ.'’\-]+){0,3}"
_NAME = r"[A-ZÀ-Þ][\w.'’\-]*(?:\s+[A-ZÀ-Þ][\w.'’\-]*){0,2}"
_DATELINE = re.compile(
    rf"^[ \t]*(?P<place>{_SHOUTED_NAME})(?:[ \t]*,[ \t]*(?P<region>{_NAME}))?[ \t]*,?[ \t]+"
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}|\([A-Za-z][\w .&/\-]{{0,30}}\)|(?P<dash>[-–—]))"
)


# A dateline with only a dash after it opens a story's first paragraph: a long line.
_LEAD_MIN = 80


def _lines(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for line in text.split("\n"):
        yield start, start + len(line)
        start += len(line) + 1


def datelines(text: str) -> list[Span]:
    """The place (and region) of each line that opens with a dateline."""
    out: list[Span] = []
    for a, b in _lines(text):
        m = _DATELINE.match(text, a, b)
        if m is None:
            continue
        if m.group("dash") and (is_shouted(text[m.end() : b] or "X") or b - a < _LEAD_MIN):
            continue  # "SOCCER - AUSTRIA DRAW ...", "PRESS DIGEST - Tunisia": section heads
        out.append((m.start("place"), m.end("place"), "LOC"))
        if m.group("region"):
            out.append((m.start("region"), m.end("region"), "LOC"))
    return out


def _tokens(text: str, a: int, b: int) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text, a, b)]


def _is_number(token: str) -> bool:
    return bool(_NUMBER.match(token)) and any(ch.isdigit() for ch in token)


def _name_runs(tokens: list[tuple[int, int, str]]) -> Iterator[tuple[int, int]]:
    """(first, after) token indexes of runs of capitalised words."""
    i = 0
    while i < len(tokens):
        word = tokens[i][2]
        if not word[:1].isupper() or _is_number(word) or word.casefold() in _FIXTURE_WORDS:
            i += 1
            continue
        j = i + 1
        while j < len(tokens):
            word = tokens[j][2]
            if word.casefold() in _FIXTURE_WORDS:
                break  # "Chicago At Toronto" in a line read in title case
            if word[:1].isupper() and not _is_number(word):
                j += 1
            elif word in _NAME_INNER and j + 1 < len(tokens) and tokens[j + 1][2][:1].isupper():
                j += 2
            else:
                break
        yield i, j
        i = j


def _after_bracket(tokens: list[tuple[int, int, str]], j: int) -> int:
    """The index after a short bracketed name ("( Italy )", "(Russia)") at ``j``, or ``j``."""
    if j < len(tokens) and tokens[j][2].startswith("("):
        for k in range(j, min(j + 5, len(tokens))):
            if tokens[k][2].endswith(")"):
                inside = " ".join(t[2] for t in tokens[j : k + 1])
                if any(ch.isdigit() for ch in inside) or not any(ch.isalpha() for ch in inside):
                    return j  # "(713) 853-3242": a phone number, not a country
                return k + 1
    return j


def _team_like(words: list[str]) -> bool:
    """A run of words that can be a team's name: at most four words, none cut by a comma or
    ending in a colon ("Intercept: -0.39", "Baltimore,MD 21202")."""
    return len(words) <= _MAX_TEAM_WORDS and not any(
        "," in w or w.endswith((":", ";")) for w in words
    )


def team_slots(text: str) -> list[tuple[int, int, int, str, bool]]:
    """Names that stand as teams in results, standings and fixture lines: ``(start, end,
    words, label, certain)``; ``certain`` when the line alone says so (a fixture, or an
    integer score after the name), else only a name the pipeline found is relabelled."""
    out: list[tuple[int, int, int, str, bool]] = []
    for a, b in _lines(text):
        tokens = _tokens(text, a, b)
        if not tokens or len(tokens) > 60:
            continue
        runs = list(_name_runs(tokens))
        words = [t[2] for t in tokens]
        if (
            len(runs) == 2
            and runs[0][0] == 0
            and runs[1][0] == runs[0][1] + 1
            and words[runs[0][1]].casefold() in _FIXTURE_WORDS
            and runs[1][1] >= len(tokens) - 1
            and all(_team_like(words[i:j]) for i, j in runs)
        ):
            venue = words[runs[0][1]].casefold() in _FIXTURE_AT
            for n, (i, j) in enumerate(runs):
                label = "LOC" if venue and n == 1 else "ORG"
                out.append((tokens[i][0], tokens[j - 1][1], j - i, label, True))
            continue
        numbers = sum(map(_is_number, words))
        if numbers < 2 or numbers < _NUMBER_SHARE * len(tokens):
            continue
        slots = []
        for i, j in runs:
            if not _team_like(words[i:j]) or _INITIAL.match(words[i]):
                continue
            k = _after_bracket(tokens, j)
            scores = 0
            while k + scores < len(tokens) and _is_number(words[k + scores]):
                scores += 1
            if scores and words[k][0].isdigit() and not _FIGURES.match(words[k]):
                # (not "Cell (713) 705-7201", "Fax +44 171": telephone numbers)
                certain = bool(_INTEGER_SCORE.match(words[k]))
                slots.append((tokens[i][0], tokens[j - 1][1], j - i, scores, certain))
        if len(slots) >= 2 or any(s[3] >= 2 for s in slots):
            out.extend((s[0], s[1], s[2], "ORG", s[4]) for s in slots)
    return out


def _overlaps(span: tuple[int, int], spans: list[Span]) -> list[Span]:
    return [s for s in spans if s[0] < span[1] and span[0] < s[1]]


def apply_layout(
    original: str,
    text: str,
    spans: list[Span],
    language: str,
    others: Sequence[tuple[int, int]] = (),
) -> list[Span]:
    """``spans`` (start, end, label) of one text, with datelines, teams and country names
    labelled by the rules above. ``original`` is the text, ``text`` the same text as the
    pipeline read it (same length); ``others`` are the stretches the pipeline read as
    something other than a name (a date, an amount): no team stands there."""
    primary = language.split("-", 1)[0]
    if primary in _UNSPACED or not text.strip() or len(original) != len(text):
        return spans
    out = list(spans)

    forced: list[Span] = []

    def force(start: int, end: int, label: str) -> None:
        nonlocal out
        out = [s for s in out if not (s[0] < end and start < s[1])]
        out.append((start, end, label))
        forced.append((start, end, label))

    countries = country_names(language)

    def is_country(start: int, end: int) -> bool:
        words = tuple(w.casefold() for w in text[start:end].split())
        return bool(words) and words in countries.get(words[0], ())

    for start, end, label in datelines(original):
        force(start, end, label)
    for start, end, n_words, label, certain in team_slots(text):
        if any(a < end and start < b for a, b in others):
            continue  # "September 20 1888"
        found = _overlaps((start, end), out)
        if is_country(start, end):
            force(start, end, "LOC")
        elif any(s[2] == "MISC" for s in found):
            continue  # "the Chilean 6-4 4-6": a nationality, not a team
        elif n_words >= 2 and any(s[2] == "PER" for s in found):
            continue  # a player with a full name ("Tiger Woods 66 67")
        elif found or (certain and n_words == 1):
            force(start, end, label)
    shouted = [(a, b) for a, b in _lines(original) if is_shouted(original[a:b])]
    for match in find_countries(text, language, shouted):
        if _overlaps((match.start, match.end), forced):
            continue  # "MEXICO CITY 1996-08-30"
        found = _overlaps((match.start, match.end), out)
        exact = all((s[0], s[1]) == (match.start, match.end) for s in found)
        if not found or match.shouted or exact:
            force(match.start, match.end, "LOC")
    return sorted(out)
