"""Text normalisation for duplicate detection: boilerplate out, mojibake repaired, then one
canonical form and shingles that work for every script. Pure; no Redis, no FastStream.

Identity is decided by the article body, not by site chrome: lines such as "Source link",
"Leave a Reply", cookie or newsletter notices, and short lines in another script than the
article (a Persian WordPress header over an English story) are dropped first.
"""

from __future__ import annotations

import re
import unicodedata

from newsflow.shared.textrepair import repair

# Site chrome, in the languages it is most often scraped in. A line is dropped when it is
# short and matches; long lines are article text even when they mention a newsletter.
_CHROME = re.compile(
    r"(?i)^\W*("
    r"source\s*link|leave\s+a\s+(reply|comment)|read\s+(more|next|also)|related(\s+articles?)?"
    r"|share\s+(this|on)|follow\s+us|sign\s+up|subscribe|newsletter|cookies?|advertisement"
    r"|all\s+rights\s+reserved|copyright|click\s+here|comments?|tags?\s*:|photo\s*:|image\s*:"
    r"|mehr\s+zum\s+thema|weiterlesen|lesen\s+sie\s+auch|anzeige|werbung|kommentare?"
    r"|lire\s+aussi|lire\s+la\s+suite|publicité|abonnez-vous|partager"
    r"|leer\s+más|publicidad|suscríbete|compartir|leggi\s+anche|pubblicità"
    r"|читайте\s+также|реклама|подписывайтесь"
    r")\b"
)
_CHROME_MAX_CHARS = 120
_FOREIGN_HEADER_MAX_LETTERS = 60
# Scripts written without spaces between words: every character is a token.
_UNSPACED = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u0e80-\u0eff"
    r"\u1000-\u109f\u1780-\u17ff]"
)
_WORD = re.compile(r"\w+")
# Fast path for text without unspaced scripts: common non-ASCII punctuation and symbols become
# spaces (str.replace, only when present), then ASCII punctuation via one bytes.translate table,
# then bytes.split: all C loops. Tokens are UTF-8 bytes, hashed as they are.
_UNICODE_SEPARATORS = (
    "„", "“", "”", "‚", "‘", "’", "«", "»", "‹", "›", "–", "—", "…", "·", "•", "€", "°",
    "©", "®", "™", "§", "′", "″", "¿", "¡", "\u00a0",
)  # fmt: skip
_ASCII = bytes(range(128))
_ASCII_SEPARATORS = bytes(
    0x20 if (chr(c) in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" or chr(c).isspace()) else c
    for c in range(256)
)


def _script_of(ch: str) -> str:
    try:
        return unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return "?"


def _main_script(text: str, sample: int = 2000) -> str | None:
    counts: dict[str, int] = {}
    seen = 0
    for ch in text:
        if ch.isalpha():
            name = _script_of(ch)
            counts[name] = counts.get(name, 0) + 1
            seen += 1
            if seen >= sample:
                break
    return max(counts, key=counts.__getitem__) if counts else None


def _line_script(line: str) -> str | None:
    return _main_script(line, sample=200)


def strip_boilerplate(text: str) -> str:
    """The article body without site chrome and short lines in a foreign script."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) <= 1:
        return "\n".join(lines)
    main = _main_script(text)
    kept = []
    for line in lines:
        if len(line) <= _CHROME_MAX_CHARS and _CHROME.match(line):
            continue
        letters = sum(1 for ch in line if ch.isalpha())
        if letters <= _FOREIGN_HEADER_MAX_LETTERS and main is not None:
            script = _line_script(line)
            if script is not None and script != main:
                continue
        kept.append(line)
    # Never strip everything: a text made only of "chrome" is its own content.
    return "\n".join(kept) if kept else "\n".join(lines)


def canonical_text(text: str) -> str:
    """Repaired, boilerplate-free, NFKC, case-folded body with punctuation removed and
    whitespace collapsed: the form fingerprints and shingles are taken of."""
    return b" ".join(tokens_of(text)).decode()


def tokens_of(text: str) -> list[bytes]:
    body = strip_boilerplate(repair(text)[0])
    return tokens(unicodedata.normalize("NFKC", body).casefold())


def tokens(normalised: str) -> list[bytes]:
    """Words and numbers as UTF-8; in scripts written without spaces, single characters."""
    data = normalised.encode()
    # What is not ASCII (whole characters: ASCII bytes never occur inside a multi-byte
    # sequence), usually a few per cent of the text: the only place unspaced scripts and the
    # separators above can be, so they are looked for there.
    others = data.translate(None, _ASCII).decode()
    if not _UNSPACED.search(others):
        present = [sep for sep in _UNICODE_SEPARATORS if sep in others]
        if present:
            for sep in present:
                normalised = normalised.replace(sep, " ")
            data = normalised.encode()
        return data.translate(_ASCII_SEPARATORS).split()
    out: list[bytes] = []
    for word in _WORD.findall(normalised):
        if _UNSPACED.search(word):
            out.extend(ch.encode() for ch in word)
        else:
            out.append(word.encode())
    return out


def shingles(toks: list[bytes], k: int = 3) -> list[bytes]:
    """Overlapping k-token shingles (the whole text as one shingle when shorter than k)."""
    if len(toks) < k:
        return [b" ".join(toks)] if toks else []
    return [b" ".join(toks[i : i + k]) for i in range(len(toks) - k + 1)]


def jaccard(a: list[bytes], b: list[bytes]) -> float:
    """Exact Jaccard similarity of two shingle lists (for evaluation and tests)."""
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
