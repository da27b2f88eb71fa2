"""The AsyncAPI 3.0 document of newsflow's streams, generated from the event contract.

``make docs`` writes it to ``shared/asyncapi.json``; a test regenerates it and fails when the
checked-in file is out of date with ``newsflow.shared.events`` or the stream names.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from newsflow.shared.events import SCHEMA_VERSION, ArticleEvent, ArticleIn, DeadLetter
from newsflow.shared.settings import StreamNames

DEFAULT_OUT = Path("shared/asyncapi.json")


def _schemas(*models: type[BaseModel]) -> dict[str, Any]:
    """JSON Schemas of the models, their nested definitions lifted to components.schemas."""
    out: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def _message(name: str, title: str, schema: str, fields: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{schema}"},
        "description": fields,
    }


def build() -> dict[str, Any]:
    streams = StreamNames.with_prefix("")
    event_fields = (
        "A stream entry with two fields: `id` (the article id) and `event` (this object as "
        f"JSON, schema_version {SCHEMA_VERSION})."
    )
    messages = {
        "RawArticle": _message(
            "RawArticle",
            "An article to enrich",
            "ArticleIn",
            "A stream entry whose `article` field holds this object as JSON (also accepted: "
            "`event`, FastStream's `__data__`, or the fields flat).",
        ),
        "ArticleEvent": _message(
            "ArticleEvent", "An article and its sections", "ArticleEvent", event_fields
        ),
        "DeadLetter": _message(
            "DeadLetter",
            "An entry that could not be processed, with the reason",
            "DeadLetter",
            "A stream entry with `stage`, `reason` and `event` (this object as JSON).",
        ),
    }
    channel_messages = {
        streams.raw: ["RawArticle"],
        streams.unique: ["ArticleEvent"],
        streams.duplicates: ["ArticleEvent"],
        streams.language: ["ArticleEvent"],
        streams.enriched: ["ArticleEvent"],
        streams.dlq: ["DeadLetter"],
    }
    descriptions = {
        streams.raw: "Articles as published (CLI or Python publisher, or any XADD).",
        streams.unique: "First articles of their story, with the `dedup` section.",
        streams.duplicates: "Exact and near duplicates, with `dedup.duplicate_of`.",
        streams.language: "Unique articles with the `language` section (text repaired if needed).",
        streams.enriched: "Unique articles with all three sections: subscribe here.",
        streams.dlq: "Entries a stage could not process; never trimmed. See `newsflow dlq`.",
    }
    channels = {
        name: {
            "address": name,
            "description": descriptions[name],
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in names},
        }
        for name, names in channel_messages.items()
    }

    def op(action: str, channel: str, summary: str) -> dict[str, Any]:
        return {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": summary,
            "messages": [
                {"$ref": f"#/channels/{channel}/messages/{m}"} for m in channel_messages[channel]
            ],
        }

    group = "consumer group `newsflow.{}` (created at 0; replicas share it)"
    operations = {
        "publishArticle": op("send", streams.raw, "Publishers add articles."),
        "dedupReceive": op("receive", streams.raw, "dedup reads with " + group.format("dedup")),
        "dedupSendUnique": op("send", streams.unique, "dedup: first article of a story."),
        "dedupSendDuplicate": op("send", streams.duplicates, "dedup: a duplicate."),
        "languageReceive": op(
            "receive", streams.unique, "language reads with " + group.format("language")
        ),
        "languageSend": op("send", streams.language, "language: the language section added."),
        "entityReceive": op(
            "receive", streams.language, "entity reads with " + group.format("entity")
        ),
        "entitySend": op("send", streams.enriched, "entity: the entities section added."),
        "subscribeEnriched": op(
            "receive", streams.enriched, "Users read with their own consumer groups."
        ),
        "stageDeadLetter": op("send", streams.dlq, "Any stage: a dead letter with its reason."),
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "newsflow",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": (
                "Event-driven news enrichment on Redis Streams: dedup -> language -> entity. "
                "Stream names carry NEWSFLOW_STREAM_PREFIX (empty here)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "compose": {"host": "redis:6379", "protocol": "redis", "pathname": "/0"},
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": _schemas(ArticleIn, ArticleEvent, DeadLetter),
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.write_text(render(), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
