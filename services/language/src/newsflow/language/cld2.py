"""CLD2, Chrome's compact language detector, as a fast second opinion. No Redis, no FastStream.

CLD2 (pycld2) scores character quadgrams and frequent words of about 160 languages, the
Latin-script languages lid.176 lacks among them (Zulu, Xhosa, Sesotho, Tswana, Tsonga, Shona,
Luganda, Yoruba, Maori, Somali), in ~8 µs a sentence here: about fifty times less than a lingua
question. It reports up to three languages with the share of the text's bytes in each, and
whether its answer is reliable. It is weaker than lingua where close languages are told apart
(Croatian / Bosnian / Serbian, Bokmål / Nynorsk / Danish, Malay / Indonesian), so the identifier
takes its reliable answers only outside those sets (see logic.py).
"""

from __future__ import annotations

import pycld2

# CLD2's codes that newsflow (BCP-47 as lid.176 and lingua give them) spells differently.
_ALIASES = {"iw": "he", "jw": "jv", "in": "id", "no": "nb"}


def cld2_opinion(text: str) -> dict[str, float]:
    """CLD2's languages for ``text`` with their shares of it (summing to 1), when CLD2 calls its
    answer reliable; empty when it does not, knows none of the text, or cannot read it."""
    try:
        reliable, _bytes, found = pycld2.detect(text, bestEffort=True)[:3]
    except (pycld2.error, UnicodeEncodeError):  # lone surrogates, invalid UTF-8
        return {}
    if not reliable:
        return {}
    shares: dict[str, float] = {}
    for _name, code, percent, _score in found:
        if code == "un" or code.startswith("xx") or percent <= 0:
            continue
        tag = code.split("-", 1)[0]  # zh-Hant -> zh (the script is found later), sr-ME -> sr
        tag = _ALIASES.get(tag, tag)
        shares[tag] = shares.get(tag, 0.0) + percent
    total = sum(shares.values())
    return {tag: share / total for tag, share in shares.items()} if total else {}
