"""Pure entity extraction: spaCy NER over title and text, labels normalised, mentions merged.

No Redis, no FastStream. CPU-bound: the service runs :meth:`EntityExtractor.extract_batch` off the
event loop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from newsflow.entity.labels import normalise_label
from newsflow.entity.mentions import merge_mentions
from newsflow.entity.models import LoadedModel, ModelRegistry
from newsflow.shared.events import EntitiesSection, EntityItem


@dataclass(frozen=True, slots=True)
class Document:
    language: str | None
    title: str
    text: str


def _items(doc: Any, field: Literal["title", "text"]) -> list[EntityItem]:
    items = []
    for ent in doc.ents:
        label = normalise_label(ent.label_)
        if label is None or not ent.text.strip():
            continue
        items.append(
            EntityItem(
                text=ent.text, label=label, start=ent.start_char, end=ent.end_char, field=field
            )
        )
    return items


class EntityExtractor:
    def __init__(self, registry: ModelRegistry, *, batch_size: int = 32) -> None:
        self.registry = registry
        self.batch_size = batch_size

    def extract_batch(self, documents: Sequence[Document]) -> list[EntitiesSection]:
        """One section per document. Documents are grouped by model and run through ``nlp.pipe``."""
        results: list[EntitiesSection | None] = [None] * len(documents)
        groups: dict[str, tuple[LoadedModel, list[int]]] = {}
        for i, doc in enumerate(documents):
            model = self.registry.for_language(doc.language)
            if model is None:
                reason = (
                    "language undetermined"
                    if not doc.language or doc.language == "und"
                    else f"no model installed for language {doc.language!r}"
                )
                results[i] = EntitiesSection(status="no_model", reason=reason)
            else:
                groups.setdefault(model.name, (model, []))[1].append(i)

        for model, indices in groups.values():
            texts: list[str] = []
            for i in indices:
                texts.append(documents[i].title)
                texts.append(documents[i].text)
            found: dict[int, list[EntityItem]] = defaultdict(list)
            for n, doc in enumerate(model.nlp.pipe(texts, batch_size=self.batch_size)):
                found[indices[n // 2]].extend(_items(doc, "title" if n % 2 == 0 else "text"))
            for i in indices:
                items = found[i]
                results[i] = EntitiesSection(
                    status="ok", model=model.label, items=items, mentions=merge_mentions(items)
                )
        return [r for r in results if r is not None]
