"""spaCy pipelines per language: resolved from a configurable map, loaded once, NER only."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from newsflow.shared.settings import Settings


@dataclass(frozen=True, slots=True)
class LoadedModel:
    name: str
    version: str
    nlp: Any
    # Scripts the pipeline was trained on (its meta's ``newsflow.scripts``); None: any.
    scripts: frozenset[str] | None = None
    # "Hant": trained on Traditional Chinese characters (meta ``newsflow.chinese``).
    chinese: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The pipeline chosen for a language: ``language`` is "xx" for the multilingual fallback."""

    language: str
    model: LoadedModel

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def label(self) -> str:
        return self.model.label

    @property
    def nlp(self) -> Any:
        return self.model.nlp

    def reads(self, script: str | None) -> bool:
        """Whether this pipeline reads text mostly in ``script`` (a multilingual pipeline
        trained on Latin-script languages does not read Cyrillic or Japanese)."""
        return self.model.scripts is None or script in self.model.scripts


def is_installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def resolve(candidates: Sequence[str]) -> str | None:
    """The first installed candidate package, or None."""
    return next((name for name in candidates if is_installed(name)), None)


class ModelRegistry:
    """Loads, once, the first installed pipeline of each configured language.

    Only the ``ner`` component runs; nothing is ever downloaded: a model that is not installed
    simply leaves its language to the multilingual fallback (the first installed of
    ``fallback``, e.g. ``xx_newsflow_ner``, where it reads the text's script) or without a model
    (``status: no_model``).
    """

    def __init__(
        self,
        language_map: Mapping[str, Sequence[str]],
        *,
        max_length: int,
        fallback: Sequence[str] = (),
    ) -> None:
        self._language_map = {k.lower(): list(v) for k, v in language_map.items()}
        self._fallback_candidates = list(fallback)
        self._max_length = max_length
        self._by_package: dict[str, LoadedModel] = {}
        self._by_language: dict[str, Pipeline] = {}
        self._fallback: Pipeline | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelRegistry:
        """The registry the service's settings describe (not loaded yet)."""
        return cls(
            settings.entity_models,
            max_length=settings.max_text_bytes,
            fallback=settings.entity_fallback_models,
        )

    def _load_package(self, package: str) -> LoadedModel:
        import spacy

        model = self._by_package.get(package)
        if model is None:
            nlp = spacy.load(package, enable=["ner"])
            nlp.max_length = max(nlp.max_length, self._max_length)
            own = nlp.meta.get("newsflow", {})
            scripts = own.get("scripts")
            model = LoadedModel(
                package,
                str(nlp.meta.get("version", "?")),
                nlp,
                frozenset(scripts) if scripts else None,
                own.get("chinese"),
            )
            self._by_package[package] = model
        return model

    def load(self) -> dict[str, str]:
        """Load every resolvable model. Returns language -> model label ("xx": fallback)."""
        for language, candidates in self._language_map.items():
            package = resolve(candidates)
            if package is not None:
                self._by_language[language] = Pipeline(language, self._load_package(package))
        package = resolve(self._fallback_candidates)
        if package is not None:
            self._fallback = Pipeline("xx", self._load_package(package))
        loaded = {lang: p.label for lang, p in self._by_language.items()}
        if self._fallback is not None:
            loaded["xx"] = self._fallback.label
        return loaded

    def for_language(self, code: str | None) -> Pipeline | None:
        """The pipeline for a BCP-47 code: exact match, then its primary language subtag,
        then the multilingual fallback."""
        if not code or code == "und":
            return None
        code = code.lower()
        found = self._by_language.get(code) or self._by_language.get(code.split("-", 1)[0])
        return found or self._fallback

    @property
    def languages(self) -> list[str]:
        return sorted(self._by_language)
