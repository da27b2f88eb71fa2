"""Pure entity extraction: spaCy NER over title and text, labels normalised, mentions merged.

No Redis, no FastStream. CPU-bound: the service runs :meth:`EntityExtractor.extract_batch` off
the event loop (in worker processes).

Only the real text is analysed. Stretches the language stage found in another language
(``language.segments``) are blanked out for the main pipeline (offsets stay valid) and are
analysed by their own language's pipeline when one is installed; otherwise they are listed as
``skipped``. The title is analysed too; every span says which field its offsets are in.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from newsflow.entity.casing import unshout
from newsflow.entity.chinese import to_traditional
from newsflow.entity.labels import Label, normalise_label, place_fix
from newsflow.entity.layout import apply_layout
from newsflow.entity.mentions import canonical_form, merge_mentions, name_spans
from newsflow.entity.models import ModelRegistry, Pipeline
from newsflow.shared.events import EntitiesSection, EntityItem, LanguageSegment
from newsflow.shared.scripts import char_script

Field = Literal["title", "text"]

# Scripts a pipeline's language writes names in, besides Latin (names of foreign people and
# companies appear in Latin letters in most languages). A span mostly in another script is a
# model error (e.g. Arabic-script text tagged PERSON by an English pipeline) and is dropped.
_NATIVE_SCRIPTS: dict[str, frozenset[str]] = {
    **{c: frozenset({"Cyrl"}) for c in ("ru", "uk", "bg", "mk", "be", "sr", "kk", "mn", "ky")},
    "el": frozenset({"Grek"}),
    **{c: frozenset({"Arab"}) for c in ("ar", "fa", "ur", "ps")},
    "he": frozenset({"Hebr"}),
    **{c: frozenset({"Deva"}) for c in ("hi", "mr", "ne")},
    "zh": frozenset({"Hani"}),
    "ja": frozenset({"Hani", "Hira", "Kana"}),
    "ko": frozenset({"Hang", "Hani"}),
    "th": frozenset({"Thai"}),
    "ka": frozenset({"Geor"}),
    "hy": frozenset({"Armn"}),
}


def allowed_scripts(language: str) -> frozenset[str] | None:
    """Scripts a pipeline for ``language`` may tag; None: any (multilingual pipelines)."""
    if language == "xx":
        return None
    return _NATIVE_SCRIPTS.get(language.split("-", 1)[0], frozenset()) | {"Latn"}


def span_script(text: str) -> str | None:
    counts = Counter(s for s in map(char_script, text) if s is not None and s != "Zyyy")
    return counts.most_common(1)[0][0] if counts else None


def main_script(title: str, text: str, *, sample: int = 2000) -> str | None:
    """The script most of an article's letters are in (from its first ``sample`` characters)."""
    return span_script(title[:sample] + " " + text[:sample])


@dataclass(frozen=True, slots=True)
class Document:
    language: str | None
    title: str
    text: str
    segments: Sequence[LanguageSegment] = ()


@dataclass(slots=True)
class _Job:
    """One stretch of one document for one pipeline."""

    doc: int
    field: Field
    offset: int
    text: str
    pipeline: Pipeline
    language: str  # the stretch's own language (the document's, or its segment's)
    items: list[EntityItem] = dataclasses.field(default_factory=list)

    @property
    def model_text(self) -> str:
        """What the pipeline reads: the text with its all-capital lines in title case (and, for
        a pipeline trained on Traditional Chinese, in Traditional characters); same offsets."""
        text = unshout(self.text)
        if self.pipeline.model.chinese == "Hant":
            text = to_traditional(text)
        return text


def blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with the given spans replaced by spaces (line breaks kept): same offsets."""
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        for i in range(max(0, start), min(end, len(chars))):
            if chars[i] not in "\r\n":
                chars[i] = " "
    return "".join(chars)


def _items(doc: Any, job: _Job) -> list[EntityItem]:
    allowed = allowed_scripts(job.pipeline.language)
    spans = []
    others = []  # dates, amounts, ...: not names
    for ent in doc.ents:
        label = normalise_label(ent.label_)
        if label is None:
            others.append((ent.start_char, ent.end_char))
        else:
            for start, end in name_spans(job.text, ent.start_char, ent.end_char, label):
                spans.append((start, end, str(label)))
    items = []
    for start, end, found in apply_layout(job.text, doc.text, spans, job.language, others):
        label = cast(Label, found)
        surface = job.text[start:end]
        name = canonical_form(surface, label)
        if sum(ch.isalpha() for ch in name) < 2:
            continue  # digits, punctuation, a lone letter
        if "@" in name or "://" in name or name.startswith("www."):
            continue  # an e-mail address or a URL is not a name
        if allowed is not None and span_script(name) not in allowed:
            continue
        label = place_fix(name, label, job.language)
        items.append(
            EntityItem(
                text=surface,
                label=label,
                start=job.offset + start,
                end=job.offset + end,
                field=job.field,
            )
        )
    return items


class EntityExtractor:
    def __init__(self, registry: ModelRegistry, *, batch_size: int = 32) -> None:
        self.registry = registry
        self.batch_size = batch_size

    def _plan(
        self, index: int, doc: Document
    ) -> tuple[EntitiesSection | None, list[_Job], list[LanguageSegment], Pipeline | None]:
        """The jobs of one document, or its final section when there is nothing to run."""
        if not doc.language or doc.language == "und":
            return EntitiesSection(status="skipped", reason="language undetermined"), [], [], None
        if not doc.text.strip() and not doc.title.strip():
            return EntitiesSection(status="skipped", reason="no text"), [], [], None
        model = self.registry.for_language(doc.language)
        if model is not None and not model.reads(main_script(doc.title, doc.text)):
            model = None  # the multilingual fallback does not read this script
        if model is None:
            reason = f"no pipeline installed for language {doc.language!r}"
            return EntitiesSection(status="no_model", reason=reason), [], [], None
        jobs = []
        skipped = []
        blanked = []
        for segment in doc.segments:
            start, end = max(0, segment.start), min(len(doc.text), segment.end)
            if start >= end:
                continue
            blanked.append((start, end))
            other = self.registry.for_language(segment.code)
            if other is None or not other.reads(span_script(doc.text[start:end])):
                skipped.append(segment)
            else:
                jobs.append(_Job(index, "text", start, doc.text[start:end], other, segment.code))
        if doc.title.strip():
            jobs.append(_Job(index, "title", 0, doc.title, model, doc.language))
        if doc.text.strip():
            jobs.append(_Job(index, "text", 0, blank(doc.text, blanked), model, doc.language))
        return None, jobs, skipped, model

    def extract_batch(self, documents: Sequence[Document]) -> list[EntitiesSection]:
        """One section per document. All stretches for one pipeline go through one
        ``nlp.pipe`` call, across the documents of the batch."""
        results: list[EntitiesSection | None] = [None] * len(documents)
        plans: dict[int, tuple[list[_Job], list[LanguageSegment], Pipeline]] = {}
        by_model: dict[str, tuple[Pipeline, list[_Job]]] = {}
        for i, doc in enumerate(documents):
            final, jobs, skipped, model = self._plan(i, doc)
            if final is not None or model is None:
                results[i] = final
                continue
            plans[i] = (jobs, skipped, model)
            for job in jobs:
                by_model.setdefault(job.pipeline.name, (job.pipeline, []))[1].append(job)

        for pipeline, jobs in by_model.values():
            texts = (job.model_text for job in jobs)
            parsed_all = pipeline.nlp.pipe(texts, batch_size=self.batch_size)
            for job, parsed in zip(jobs, parsed_all, strict=True):
                job.items = _items(parsed, job)

        for i, (jobs, skipped, model) in plans.items():
            items = sorted(
                (item for job in jobs for item in job.items),
                key=lambda it: (it.field != "title", it.start),
            )
            mentions, owners = merge_mentions(
                items, len(documents[i].text), documents[i].language or ""
            )
            # One name, one label in an article: each span takes its mention's label (the
            # label most of the name's spans got, or its full form's), so a bare "Wang" read
            # as ORG once after "Wang Dan" (PER) is not an organisation.
            items = [
                it.model_copy(update={"mention": m, "label": mentions[m].label})
                for it, m in zip(items, owners, strict=True)
            ]
            results[i] = EntitiesSection(
                status="ok",
                model=model.label,
                language=model.language,
                items=items,
                mentions=mentions,
                skipped=skipped,
            )
        return [r for r in results if r is not None]
