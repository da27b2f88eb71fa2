"""Merge entity spans into counted mentions with a canonical name."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable

from newsflow.shared.events import EntityItem, EntityMention

_POSSESSIVES = ("'s", "’s", "'", "’")
_STRIP = " \t\n\"'“”„«»‘’()[]{}.,;:!?-–—"


def canonical_name(text: str) -> str:
    """Whitespace collapsed, surrounding punctuation and an English possessive removed."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    for suffix in _POSSESSIVES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            name = name[: -len(suffix)]
            break
    return name.strip(_STRIP)


def merge_mentions(items: Iterable[EntityItem]) -> list[EntityMention]:
    """One mention per (name, label), case-insensitively; the most frequent spelling names it."""
    spellings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for item in items:
        name = canonical_name(item.text)
        if name:
            spellings[(name.casefold(), item.label)][name] += 1
    mentions = [
        EntityMention(name=forms.most_common(1)[0][0], label=label, count=sum(forms.values()))  # type: ignore[arg-type]
        for (_key, label), forms in spellings.items()
    ]
    mentions.sort(key=lambda m: (-m.count, m.label, m.name))
    return mentions
