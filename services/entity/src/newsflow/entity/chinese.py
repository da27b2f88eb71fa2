"""Simplified Chinese read by a pipeline trained on Traditional characters.

newsflow's Chinese pipeline is trained on Universal NER's Chinese GSD, written in Traditional
characters; most Chinese news is written in Simplified ones, which it then reads as unknown
characters. Such text is given to it converted to Traditional (OpenCC's phrase and character
tables, ``opencc-python-reimplemented``), and the entities are cut from the original text: the
conversion keeps every offset, a phrase conversion that would change the length is replaced by
the character-by-character one, which maps one character to one.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

_TABLES = {"s2t": "STCharacters.txt", "t2s": "TSCharacters.txt"}


@functools.cache
def _converter(direction: str) -> Any:
    from opencc import OpenCC  # type: ignore[import-untyped]

    return OpenCC(direction)


@functools.cache
def _characters(direction: str) -> dict[int, str]:
    """One character to one (the first, most common, reading)."""
    table: dict[int, str] = {}
    dictionary = importlib.resources.files("opencc").joinpath("dictionary")
    text = dictionary.joinpath(_TABLES[direction]).read_text("utf-8")
    for line in text.splitlines():
        simplified, _, traditional = line.partition("\t")
        first = traditional.split(" ")[0]
        if len(simplified) == 1 and len(first) == 1:
            table[ord(simplified)] = first
    return table


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def _convert(text: str, direction: str) -> str:
    if not _has_han(text):
        return text
    converted: str = _converter(direction).convert(text)
    if len(converted) == len(text):
        return converted
    return text.translate(_characters(direction))


def to_traditional(text: str) -> str:
    """``text`` with Simplified characters written in Traditional ones; the same length."""
    return _convert(text, "s2t")


def to_simplified(text: str) -> str:
    """``text`` in Simplified characters, the same length (the eval's Simplified copy of a
    Traditional gold set)."""
    return _convert(text, "t2s")
