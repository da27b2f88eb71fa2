"""The event contract: the one place that defines what flows through newsflow's streams.

* :class:`ArticleIn` is what publishers put on ``articles.raw``.
* :class:`ArticleEvent` is what every stage publishes: the article's fields, ``schema_version``,
  one section per stage that has run (``dedup``, ``language``, ``entities``) and a ``trace``.
* :class:`DeadLetter` is what lands on ``articles.dlq``: the original payload, the stage and
  the reason.

All of them serialise to plain JSON, so a subscriber in any language can read them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from newsflow.shared.ids import derive_article_id

SCHEMA_VERSION: Literal[1] = 1

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$")
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")

JSONScalar = str | int | float | bool | None
MetadataValue = JSONScalar | list[JSONScalar] | dict[str, JSONScalar]


class InputLimits(BaseModel):
    """Limits applied to input; passed as validation context (they come from Settings)."""

    max_text_bytes: int = 1_000_000
    max_title_chars: int = 2_000
    max_metadata_bytes: int = 16_384
    max_fields: int = 64


def _limits(info: ValidationInfo) -> InputLimits:
    ctx = info.context
    if isinstance(ctx, InputLimits):
        return ctx
    return InputLimits()


class ArticleFields(BaseModel):
    """Fields shared by the input article and every event."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    title: str = ""
    text: str
    url: Annotated[str, Field(max_length=4096)] | None = None
    source: Annotated[str, Field(max_length=512)] | None = None
    published_at: datetime | None = None
    language_hint: str | None = None
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)

    @field_validator("published_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("language_hint")
    @classmethod
    def _hint(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _LANG_RE.match(value):
            raise ValueError(f"language_hint {value[:20]!r} is not a BCP-47 language tag")
        return value.replace("_", "-")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):
            raise ValueError("url must be an absolute http(s) URL")
        return value


class ArticleIn(ArticleFields):
    """An article as published to ``articles.raw``.

    ``id`` is optional: see :func:`derive_article_id`.
    """

    id: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _int_id(cls, value: Any) -> Any:
        # Numeric ids are common in feeds: 12345 is taken as "12345" (never a float or bool).
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _ID_RE.match(value):
            raise ValueError(
                "id must be 1-200 characters of letters, digits and ._:@/+=- "
                "and start with a letter or digit"
            )
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        limit = _limits(info).max_text_bytes
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise ValueError(f"text is {size} bytes, over the limit of {limit} bytes")
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str, info: ValidationInfo) -> str:
        limit = _limits(info).max_title_chars
        if len(value) > limit:
            raise ValueError(f"title is {len(value)} characters, over the limit of {limit}")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        limit = _limits(info).max_metadata_bytes
        size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
        if size > limit:
            raise ValueError(f"metadata is {size} bytes as JSON, over the limit of {limit}")
        return value

    def with_id(self) -> str:
        """The article id: the given one, else derived from the canonical URL or the content."""
        return self.id or derive_article_id(url=self.url, title=self.title, text=self.text)


# ---------------------------------------------------------------- stage sections


class DedupSection(BaseModel):
    status: Literal["unique", "exact_duplicate", "near_duplicate"]
    duplicate_of: str | None = Field(
        default=None, description="The earliest article of the cluster (None when unique)"
    )
    similarity: float = Field(ge=0.0, le=1.0)
    fingerprint: str
    cluster_id: str | None = Field(
        default=None, description="Stable id of the story cluster: its earliest article's id"
    )
    method: Literal["url", "content", "minhash"] | None = Field(
        default=None, description="What matched: canonical URL, content fingerprint or MinHash"
    )


class LanguageAlternative(BaseModel):
    code: str
    confidence: float = Field(ge=0.0, le=1.0)


class LanguageSegment(BaseModel):
    """A stretch of the text (character offsets into ``text``) in a minority language."""

    code: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    confidence: float = Field(ge=0.0, le=1.0)


class LanguageSection(BaseModel):
    code: str = Field(description="BCP-47 code, or `und` when undetermined")
    name: str | None = Field(default=None, description="English name of the language")
    confidence: float = Field(ge=0.0, le=1.0)
    script: str | None = Field(description="ISO 15924 code of the dominant script")
    alternatives: list[LanguageAlternative] = Field(default_factory=list)
    reason: str | None = Field(default=None, description="Why the code is `und`, if it is")
    segments: list[LanguageSegment] = Field(
        default_factory=list,
        description="Lines in other languages that make up a real share of the text",
    )


EntityLabel = Literal["PER", "ORG", "LOC", "MISC"]


class EntityItem(BaseModel):
    """One span the model found, with its offsets in ``field`` (the title or the text)."""

    text: str
    label: EntityLabel
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    field: Literal["title", "text"] = "text"
    mention: int | None = Field(
        default=None, description="Index of the mention this span belongs to, in `mentions`"
    )


class EntityMention(BaseModel):
    """One entity of the article: its spans merged under a canonical name."""

    name: str = Field(description="Canonical name: the longest full form, without possessives")
    label: EntityLabel
    count: int = Field(ge=1, description="Spans of this entity in title and text")
    field: Literal["title", "text"] = Field(description="Where it is first mentioned")
    start: int = Field(ge=0, description="Offset of the first mention in that field")
    salience: float = Field(
        ge=0.0, le=1.0, description="How central to the article: title, early, frequent"
    )
    forms: list[str] = Field(default_factory=list, description="Surface forms seen")


class EntitiesSection(BaseModel):
    status: Literal["ok", "no_model", "skipped"] = Field(
        description="`ok`; `no_model`: no pipeline for the language; `skipped`: `und` or no text"
    )
    model: str | None = Field(default=None, description="Main pipeline as name@version")
    language: str | None = Field(default=None, description="Language whose pipeline was used")
    items: list[EntityItem] = Field(default_factory=list)
    mentions: list[EntityMention] = Field(default_factory=list)
    skipped: list[LanguageSegment] = Field(
        default_factory=list,
        description="Segments of the text in another language that no pipeline analysed",
    )
    reason: str | None = None


class StageTrace(BaseModel):
    at: datetime
    consumer: str


class ArticleEvent(ArticleFields):
    """What every stage publishes. Sections appear as the stages run; unknown keys are rejected."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str
    dedup: DedupSection | None = None
    language: LanguageSection | None = None
    entities: EntitiesSection | None = None
    text_repaired: bool = False
    trace: dict[str, StageTrace] = Field(default_factory=dict)

    @classmethod
    def from_article(cls, article: ArticleIn) -> ArticleEvent:
        data = article.model_dump(exclude={"id"})
        return cls(id=article.with_id(), **data)

    def traced(self, stage: str, consumer: str, **sections: Any) -> ArticleEvent:
        """A copy with ``sections`` set and the stage stamped into the trace."""
        trace = dict(self.trace)
        trace[stage] = StageTrace(at=datetime.now(UTC), consumer=consumer)
        return self.model_copy(update={**sections, "trace": trace})


class DeadLetter(BaseModel):
    """An entry that could not be processed, with everything needed to understand and replay it."""

    stage: str
    reason: str
    error_type: str
    service: str
    consumer: str
    attempts: int | None = Field(default=None, description="Failed attempts, for retry-cap DLQs")
    original_stream: str
    original_id: str
    article_id: str | None = None
    payload: dict[str, str]
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def describe_validation_error(exc: ValidationError) -> str:
    """A short, human-readable reason built from a pydantic error (never echoes the text)."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"]) or "article"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)
