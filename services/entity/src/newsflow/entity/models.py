"""spaCy pipelines per language: resolved from a configurable map, loaded once, NER only."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LoadedModel:
    name: str
    version: str
    nlp: Any

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


def is_installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def resolve(candidates: Sequence[str]) -> str | None:
    """The first installed candidate package, or None."""
    return next((name for name in candidates if is_installed(name)), None)


class ModelRegistry:
    """Loads, once, the first installed pipeline of each configured language.

    Only the ``ner`` component runs; nothing is ever downloaded: a model that is not installed
    simply leaves its language without a model (``status: no_model``).
    """

    def __init__(self, language_map: Mapping[str, Sequence[str]], *, max_length: int) -> None:
        self._language_map = {k.lower(): list(v) for k, v in language_map.items()}
        self._max_length = max_length
        self._by_package: dict[str, LoadedModel] = {}
        self._by_language: dict[str, LoadedModel] = {}

    def load(self) -> dict[str, str]:
        """Load every resolvable model. Returns language -> model label."""
        import spacy

        for language, candidates in self._language_map.items():
            package = resolve(candidates)
            if package is None:
                continue
            model = self._by_package.get(package)
            if model is None:
                nlp = spacy.load(package, enable=["ner"])
                nlp.max_length = max(nlp.max_length, self._max_length)
                model = LoadedModel(package, str(nlp.meta.get("version", "?")), nlp)
                self._by_package[package] = model
            self._by_language[language] = model
        return {lang: m.label for lang, m in self._by_language.items()}

    def for_language(self, code: str | None) -> LoadedModel | None:
        """The model for a BCP-47 code: exact match first, then its primary language subtag."""
        if not code or code == "und":
            return None
        code = code.lower()
        return self._by_language.get(code) or self._by_language.get(code.split("-", 1)[0])

    @property
    def languages(self) -> list[str]:
        return sorted(self._by_language)
