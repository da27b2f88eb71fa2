"""Merge entity spans into mentions: canonical name, label, count, first offset, salience.

Rules, in order:
1. Canonical form of a span: whitespace collapsed, surrounding quotes and punctuation removed,
   possessives and genitives removed (English ``'s``/``’s``/``s'``, Scandinavian ``:s`` after
   abbreviations such as ``SVT:s``), and for people, leading titles (``Mr``, ``Dr``,
   ``President``, ``Frau``, …).
2. Spans with the same canonical form (case-insensitive) are one entity.
3. A form that is another form plus a genitive ``s`` (``Merkels``, ``Berlins``) is that form;
   a person's surname with a genitive ``s`` also joins the full name (``Anderssons``).
   In German and Dutch, the case forms of a name are one entity named by its shortest form,
   the nominative (``Deutschen Bank`` -> ``Deutsche Bank``, ``Bundestages`` -> ``Bundestag``).
4. Short forms join the one longer form they abbreviate, when exactly one fits: a person's
   surname or first name (``Yu`` -> ``Richard Yu``), the first words of an organisation or
   place (``Huawei`` -> ``Huawei Technologies``), or its initials (``EU`` -> ``European
   Union``). An ambiguous short form (two Yus) stays on its own.
5. The label is the one most spans of the entity got (ties: the longest form's label); the
   name is its longest form.
6. Salience in [0, 1] = 0.4 if named in the title + 0.3 x how early it first appears in the text
   + 0.3 x its count relative to the most frequent entity of the article.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from newsflow.shared.events import EntityItem, EntityLabel, EntityMention

_QUOTES_AND_PUNCT = " \t\n\"'“”„‟«»‹›‘’‚`´()[]{}.,;:!?-–—/\\*•·"
_POSSESSIVES = ("'s", "’s", "`s", "´s")
_PLURAL_POSSESSIVES = ("s'", "s’")
# Leading words that are a person's title, not their name (compared case-insensitively,
# without a trailing dot).
_TITLES = frozenset(
    """mr mrs ms miss mx dr prof professor sir dame lord lady rev reverend fr father sister
    president vice prime minister chancellor secretary senator sen rep representative
    congressman congresswoman governor gov mayor judge justice general gen colonel col major
    captain capt lieutenant lt sergeant sgt admiral commander king queen prince princess pope
    sheikh emir ceo chairman chairwoman coach
    herr frau dr. bundeskanzler bundeskanzlerin ministerpräsident
    m mme mlle monsieur madame président présidente ministre
    señor señora sr sra srta don doña presidente
    signor signora sig
    statsminister
    """.split()
)

_BRACKETS = re.compile(r"[()\[\]（）【】]")
_SPAN_TRAILING = ' \t\n-–—,;:/|•·"”’»)](['
_DETERMINERS = ("the ", "The ", "THE ")

SALIENCE_TITLE = 0.4
SALIENCE_POSITION = 0.3
SALIENCE_FREQUENCY = 0.3


def canonical_form(text: str, label: str) -> str:
    """Rule 1: the span's name without decoration."""
    name = " ".join(unicodedata.normalize("NFC", text).split()).strip(_QUOTES_AND_PUNCT)
    for suffix in _POSSESSIVES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            name = name[: -len(suffix)]
            break
    else:
        for suffix in _PLURAL_POSSESSIVES:
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                name = name[:-1]
                break
        else:
            if name.endswith(":s") and len(name) > 3:
                name = name[:-2]
    name = name.strip(_QUOTES_AND_PUNCT)
    if label == "PER":
        words = name.split(" ")
        while len(words) > 1 and words[0].casefold().rstrip(".") in _TITLES:
            words.pop(0)
        name = " ".join(words)
    return name


def _after_connector(head: str) -> bool:
    """Whether ``head`` ends in a short lowercase word ("of", "van", "de")."""
    last = head.rsplit(" ", 1)[-1]
    return " " in head and 0 < len(last) <= 3 and last.isalpha() and last.islower()


def trim_span(text: str, start: int, end: int, label: str) -> tuple[int, int]:
    """Span offsets without what is not part of the name (the CoNLL convention): a leading
    "the", a person's leading titles, a trailing possessive, a trailing number, dashes and
    punctuation. May return an empty span (start >= end)."""
    changed = True
    while changed and start < end:
        changed = False
        piece = text[start:end]
        for det in _DETERMINERS:
            if piece.startswith(det) and end - start > len(det):
                start += len(det)
                changed = True
        if label == "PER":
            first, sep, rest = text[start:end].partition(" ")
            if sep and rest and first.casefold().rstrip(".") in _TITLES:
                start += len(first) + 1
                changed = True
        piece = text[start:end]
        for suffix in (" 's", *_POSSESSIVES):
            if piece.endswith(suffix) and end - start > len(suffix) + 1:
                end -= len(suffix)
                changed = True
                break
        stripped = text[start:end].rstrip(_SPAN_TRAILING)
        last_word = stripped.rsplit(" ", 1)
        # A trailing phone number, year, score or count. It costs the names that end in a
        # number ("Ligue 1"): in news, scores in sports results are far more common.
        # A number after a small lowercase word is the name's own ("Elections of 1982",
        # "Tweede Kamerverkiezingen van 1982"): not cut, that would leave a dangling "of".
        if len(last_word) == 2 and last_word[1].isdigit() and not _after_connector(last_word[0]):
            stripped = last_word[0].rstrip(_SPAN_TRAILING)
        if len(stripped) < end - start:
            end = start + len(stripped)
            changed = True
        lead = len(text[start:end]) - len(text[start:end].lstrip(" \t\n\"'“”„«»‘’(["))
        if lead:
            start += lead
            changed = True
    return start, end


def _lower_case_only(piece: str) -> bool:
    return any(ch.islower() for ch in piece) and not any(ch.isupper() for ch in piece)


def name_spans(text: str, start: int, end: int, label: str) -> list[tuple[int, int]]:
    """The names in a span, trimmed (:func:`trim_span`): a span is cut at brackets, since a
    name and the one in brackets after it are two ("Rotterdam (Niederlande)", "Deutsche
    Vermögensberatung (DVAG)", the gold sets' convention; pipelines trained on WikiANN, whose
    fragments keep them together, read them as one). Of a span cut in pieces, a piece in lower
    case only is not a name ("Kolno (gemeente)"); a span in lower case that is not cut stays
    (a pipeline reads names in lower-case text too)."""
    pieces = []
    at = start
    for piece in _BRACKETS.split(text[start:end]):
        first, last = trim_span(text, at, at + len(piece), label)
        at += len(piece) + 1
        if first < last:
            pieces.append((first, last))
    if len(pieces) < 2:
        return pieces
    return [(a, b) for a, b in pieces if not _lower_case_only(text[a:b])]


@dataclass
class _Entity:
    forms: Counter[str] = field(default_factory=Counter)  # name candidates
    surface: Counter[str] = field(default_factory=Counter)  # every form seen
    labels: Counter[str] = field(default_factory=Counter)
    spans: list[int] = field(default_factory=list)  # indices into the items

    @property
    def longest(self) -> str:
        return max(self.forms, key=lambda f: (len(f.split(" ")), len(f), self.forms[f]))

    def absorb(self, other: _Entity, *, as_inflection: bool = False) -> None:
        """Take over ``other``'s spans; an inflected form (genitive) is not a name."""
        if as_inflection:
            self.forms[self.forms.most_common(1)[0][0]] += other.forms.total()
        else:
            self.forms.update(other.forms)
        self.surface.update(other.surface)
        self.labels.update(other.labels)
        self.spans.extend(other.spans)


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split(" ") if w[:1].isupper())


def _abbreviates(short: str, long: str, label: str) -> bool:
    """Rule 4: can ``short`` stand for ``long``?"""
    s_words, l_words = short.casefold().split(" "), long.casefold().split(" ")
    if len(s_words) >= len(l_words):
        return False
    if label == "PER":
        last = s_words[-1]
        variants = [s_words]
        if last.endswith("s") and not last.endswith("ss") and len(last) > 2:
            variants.append([*s_words[:-1], last[:-1]])  # genitive: "Anderssons"
        return any(v == l_words[-len(v) :] or v == l_words[: len(v)] for v in variants)
    if s_words == l_words[: len(s_words)]:
        return True
    return len(short) >= 2 and short.isupper() and " " not in short and _initials(long) == short


def _label_of(entity: _Entity) -> str:
    return entity.labels.most_common(1)[0][0]


def _words(name: str) -> list[str]:
    return name.casefold().split(" ")


def _join_short_forms(entities: dict[str, _Entity]) -> None:
    """Rule 4, in place: short forms join the single longer form they abbreviate (shortest
    first, so a form absorbed into a longer one is not considered again).

    Each short form is tried only against the entities that could fit (:func:`_abbreviates`
    needs the same first or last word, or the initials), found in indexes by those words: an
    article with hundreds of names costs hundreds of checks, not their square. An entity's
    longest form never changes when it absorbs a shorter one (fewer words, by definition);
    its label may, and is looked up again.
    """
    longest = {key: entity.longest for key, entity in entities.items()}
    labels = {key: _label_of(entity) for key, entity in entities.items()}
    by_first: dict[str, set[str]] = {}
    by_last: dict[str, set[str]] = {}
    by_initials: dict[str, set[str]] = {}
    for key, name in longest.items():
        words = _words(name)
        by_first.setdefault(words[0], set()).add(key)
        by_last.setdefault(words[-1], set()).add(key)
        by_initials.setdefault(_initials(name), set()).add(key)

    for key in sorted(entities, key=lambda k: (len(k.split(" ")), len(k))):
        short, label = longest[key], labels[key]
        words = _words(short)
        candidates = by_first.get(words[0], set()) | by_last.get(words[-1], set())
        if words[-1].endswith("s"):  # a genitive surname ("Anderssons")
            stem = words[-1][:-1]
            candidates |= by_last.get(stem, set()) | by_first.get(stem, set())
        candidates |= by_initials.get(short, set())
        fits = [
            other
            for other in candidates
            if other != key
            and other in entities
            # a surname the model labelled wrongly still belongs to the person
            and (labels[other] == label or labels[other] == "PER")
            and _abbreviates(short, longest[other], labels[other])
        ]
        if len(fits) == 1:
            target = entities[fits[0]]
            target.absorb(entities.pop(key))
            labels[fits[0]] = _label_of(target)


# Rule 3b: case endings of the words before a name's last word (adjectives: "der Deutschen
# Bank" is "die Deutsche Bank"), and the genitive endings of its last word, by language.
_DECLENSION: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "de": (("en", "er", "es", "em", "e"), ("es", "s")),
    "nl": (("e",), ("s",)),
}


def _declension_key(name: str, language: str) -> tuple[str, ...] | None:
    endings = _DECLENSION.get(language.split("-", 1)[0])
    words = name.casefold().split(" ")
    if endings is None:
        return None
    inner, last = endings

    def cut(word: str, suffixes: tuple[str, ...]) -> str:
        for suffix in suffixes:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
        return word

    return (*(cut(w, inner) for w in words[:-1]), cut(words[-1], last))


def _join_declensions(entities: dict[str, _Entity], language: str) -> None:
    """Rule 3b, in place: the case forms of one name are one entity, named by its shortest
    form (the nominative: "Deutsche Bank", "Europäische Zentralbank", "Bundestag")."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for key, entity in entities.items():
        declined = _declension_key(entity.longest, language)
        if declined is not None:
            groups.setdefault(declined, []).append(key)
    for keys in groups.values():
        if len(keys) < 2:
            continue
        keys.sort(key=lambda k: (len(entities[k].longest), -len(entities[k].spans), k))
        target = entities[keys[0]]
        for other in keys[1:]:
            target.absorb(entities.pop(other), as_inflection=True)


def merge_mentions(
    items: Sequence[EntityItem], text_length: int, language: str = ""
) -> tuple[list[EntityMention], list[int]]:
    """Mentions sorted by salience, and for each item the index of its mention. Items must
    have a non-empty canonical form (see :func:`canonical_form`); ``language`` (the
    article's) chooses the case endings of rule 3b."""
    entities: dict[str, _Entity] = {}
    for index, item in enumerate(items):
        form = canonical_form(item.text, item.label)
        if not form:
            raise ValueError(f"span {item.text!r} has no name")
        entity = entities.setdefault(form.casefold(), _Entity())
        entity.forms[form] += 1
        entity.surface[form] += 1
        entity.labels[item.label] += 1
        entity.spans.append(index)

    # Rule 3: genitive s.
    for key in sorted(entities, key=len, reverse=True):
        if key.endswith("s") and not key.endswith("ss") and key[:-1] in entities:
            entities[key[:-1]].absorb(entities.pop(key), as_inflection=True)

    if language:
        _join_declensions(entities, language)
    _join_short_forms(entities)

    max_count = max((len(e.spans) for e in entities.values()), default=1)
    mentions: list[EntityMention] = []
    owner: dict[int, int] = {}
    ranked: list[tuple[EntityMention, list[int]]] = []
    for entity in entities.values():
        spans = sorted(entity.spans, key=lambda i: (items[i].field != "title", items[i].start))
        first = items[spans[0]]
        in_title = any(items[i].field == "title" for i in spans)
        text_starts = [items[i].start for i in spans if items[i].field == "text"]
        position = 1.0 - min(text_starts) / max(text_length, 1) if text_starts else 1.0
        salience = (
            SALIENCE_TITLE * in_title
            + SALIENCE_POSITION * max(0.0, position)
            + SALIENCE_FREQUENCY * len(spans) / max_count
        )
        longest = entity.longest
        top_label, top_count = entity.labels.most_common(1)[0]
        tied = [lbl for lbl, n in entity.labels.items() if n == top_count]
        longest_labels = Counter(
            items[i].label
            for i in spans
            if canonical_form(items[i].text, items[i].label) == longest
        )
        if " " in longest and longest_labels:
            # A full name's own label wins over its short forms': a pipeline reads "Olaf
            # Scholz" as a person and the later, bare "Scholz" often as a place.
            top_label = longest_labels.most_common(1)[0][0]
        elif len(tied) > 1:
            top_label = next(
                (lbl for lbl, _ in longest_labels.most_common() if lbl in tied), top_label
            )
        mention = EntityMention(
            name=longest,
            label=cast(EntityLabel, top_label),
            count=len(spans),
            field=first.field,
            start=first.start,
            salience=round(min(1.0, salience), 4),
            forms=sorted(entity.surface, key=lambda f: (-entity.surface[f], f)),
        )
        ranked.append((mention, spans))
    ranked.sort(key=lambda ms: (-ms[0].salience, -ms[0].count, ms[0].name))
    for position_index, (mention, spans) in enumerate(ranked):
        mentions.append(mention)
        for i in spans:
            owner[i] = position_index
    return mentions, [owner[i] for i in range(len(items))]
