"""Chinese tokens with their word's role: one token a character, tagged by jieba.

A pipeline that reads Chinese one character at a time sees no word boundaries. This tokenizer
keeps spaCy's character tokens and sets each token's ``tag_`` to its place in the word jieba
finds around it (B, M, E, or S for a one-character word) and that word's part of speech from
jieba's dictionary and HMM (``nr`` person name, ``ns`` place, ``nt`` organisation, ``v``, ...):
"B-nr" is the first character of what jieba reads as a person's name. The NER model embeds the
tag as one more feature (``TAG`` in its hash embedding), so the boundaries and name classes are
hints it learns to weigh, not decisions: spans still start and end on any character.

jieba's dictionary is in Simplified characters: the text is segmented in its Simplified form
(OpenCC, one character to one) and the tags are put on the original characters.

This file is self-contained (spaCy, jieba and OpenCC only): ``make train-ner`` copies it into
the package of a pipeline trained with it, whose ``__init__`` imports it, so that
``spacy.load`` finds the tokenizer it names.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import spacy

NAME = "newsflow.zh_char_roles.v1"


@functools.cache
def _t2s() -> Any:
    from opencc import OpenCC  # type: ignore[import-untyped,unused-ignore]

    return OpenCC("t2s")


@functools.cache
def _jieba() -> Any:
    import jieba  # type: ignore[import-untyped,unused-ignore]
    import jieba.posseg  # type: ignore[import-untyped,unused-ignore]

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.posseg


def simplified(text: str) -> str:
    """``text`` in Simplified characters, the same length (a phrase conversion that would change
    the length is replaced by the one of each character alone)."""
    converted: str = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    out = []
    for ch in text:
        one: str = _t2s().convert(ch)
        out.append(one if len(one) == 1 else ch)
    return "".join(out)


def char_roles(text: str) -> list[str]:
    """Each character's role in its jieba word: ``"B-nr"``, ``"E-nr"``, ``"S-x"``, ..."""
    roles = ["X"] * len(text)
    if not text:
        return roles
    source = simplified(text)
    at = 0
    for pair in _jieba().cut(source):
        word, flag = str(pair.word), str(pair.flag)
        size = len(word)
        if size == 0 or source[at : at + size] != word:
            break  # jieba never drops characters; should it, the rest keeps "X"
        for k in range(size):
            place = "S" if size == 1 else "B" if k == 0 else "E" if k == size - 1 else "M"
            roles[at + k] = f"{place}-{flag}"
        at += size
    return roles


class CharRoleTokenizer:
    """spaCy's character tokenizer for Chinese, with each token's role as its ``tag_``."""

    def __init__(self, vocab: Any) -> None:
        from spacy.lang.zh import ChineseTokenizer, Segmenter

        self.inner: Any = ChineseTokenizer(vocab, segmenter=Segmenter.char)

    def __call__(self, text: str) -> Any:
        doc = self.inner(text)
        roles = char_roles(text)
        for token in doc:
            token.tag_ = roles[token.idx]
        return doc

    def to_bytes(self, **kwargs: Any) -> bytes:
        data: bytes = self.inner.to_bytes(**kwargs)
        return data

    def from_bytes(self, data: bytes, **kwargs: Any) -> CharRoleTokenizer:
        self.inner.from_bytes(data, **kwargs)
        return self

    def to_disk(self, path: Any, **kwargs: Any) -> None:
        self.inner.to_disk(path, **kwargs)

    def from_disk(self, path: Any, **kwargs: Any) -> CharRoleTokenizer:
        self.inner.from_disk(path, **kwargs)
        return self


def create_tokenizer() -> Any:
    def make(nlp: Any) -> CharRoleTokenizer:
        return CharRoleTokenizer(nlp.vocab)

    return make


_tokenizers: Any = spacy.util.registry.tokenizers
_tokenizers.register(NAME, func=create_tokenizer)
