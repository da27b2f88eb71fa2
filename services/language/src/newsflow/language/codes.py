"""fastText lid.176 labels as BCP-47 tags, and their English names."""

from __future__ import annotations

from functools import lru_cache

import langcodes

# lid.176 labels are Wikipedia language codes; a few are not the BCP-47 tag of that language.
_WIKIPEDIA_TO_BCP47 = {
    "als": "gsw",  # Alemannic (ISO "als" is Tosk Albanian)
    "bh": "bho",  # "Bihari" Wikipedia, written in Bhojpuri
    "eml": "egl",  # Emilian
    "sh": "hbs",  # Serbo-Croatian
}


def to_bcp47(label: str) -> str:
    return _WIKIPEDIA_TO_BCP47.get(label, label)


@lru_cache(maxsize=512)
def language_name(code: str) -> str | None:
    """English name of a BCP-47 tag (None for `und` or an unknown tag)."""
    if code == "und":
        return None
    try:
        name = langcodes.Language.get(code).display_name()
    except (ValueError, LookupError):
        return None
    return None if name.startswith("Unknown language") else name
