"""How events sit in Redis stream entries, and how entries are read back.

Entries that newsflow writes have two fields: ``id`` (the article id, so tools can filter without
parsing) and ``event`` (the event as UTF-8 JSON). Dead letters carry ``stage``, ``reason`` and
``event`` (the :class:`DeadLetter` as JSON).

Publishers may write an article to ``articles.raw`` in any of these forms:

* a field ``article`` (or ``event``) holding the article as a JSON object — what
  ``newsflow publish`` and :func:`encode_article` write;
* a FastStream message (``broker.publish(article_dict, stream=...)``, field ``__data__``);
* flat string fields (``XADD articles.raw * title ... text ... url ...``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from faststream.redis.parser import BinaryMessageFormatV1
from pydantic import ValidationError

from newsflow.shared.errors import InvalidPayload
from newsflow.shared.events import (
    ArticleEvent,
    ArticleIn,
    DeadLetter,
    InputLimits,
    describe_validation_error,
)

EVENT_FIELD = "event"
ARTICLE_FIELD = "article"
FASTSTREAM_FIELD = "__data__"

Fields = dict[str, str]


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry as the stage runtime hands it to a stage."""

    entry_id: str
    fields: Fields


def encode_event(event: ArticleEvent) -> dict[str, str | bytes]:
    """The entry fields of an event. The JSON is the UTF-8 bytes pydantic writes (what
    ``model_dump_json`` would decode to text, and Redis would encode again)."""
    return {"id": event.id, EVENT_FIELD: event.__pydantic_serializer__.to_json(event)}


def encode_article(article: Mapping[str, Any]) -> dict[str, str]:
    return {ARTICLE_FIELD: json.dumps(article, ensure_ascii=False, default=str)}


def encode_dead_letter(letter: DeadLetter) -> dict[str, str]:
    return {"stage": letter.stage, "reason": letter.reason, EVENT_FIELD: letter.model_dump_json()}


def _json_object(raw: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidPayload(
            f"field {field!r} is not valid JSON: {exc.msg} (char {exc.pos})"
        ) from exc
    except RecursionError as exc:
        raise InvalidPayload(f"field {field!r} holds JSON nested too deeply") from exc
    if not isinstance(value, dict):
        raise InvalidPayload(f"field {field!r} must hold a JSON object, got {type(value).__name__}")
    return value


def _check_unicode(data: Any) -> None:
    """Reject lone surrogates (e.g. JSON "\\ud800", or a Python string holding one): they
    cannot be written as UTF-8 later. Strings are checked where they are (keys and values, at
    any depth); values of other types (a datetime from the Python API) are the contract's to
    judge, and a container met twice (a cycle) is looked at once."""
    seen: set[int] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as exc:
                    bad = exc.object[exc.start : exc.end]
                    raise InvalidPayload(f"invalid Unicode: lone surrogate {bad!a}") from exc
        elif isinstance(item, dict | list | tuple | set | frozenset) and id(item) not in seen:
            seen.add(id(item))
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            else:
                stack.extend(item)


def raw_article_dict(fields: Fields, max_fields: int = 64) -> dict[str, Any]:
    """The article object carried by a raw entry, whichever publishing form was used."""
    if not fields:
        raise InvalidPayload("entry has no fields")
    if len(fields) > max_fields:
        raise InvalidPayload(f"entry has {len(fields)} fields, over the limit of {max_fields}")
    for name in (ARTICLE_FIELD, EVENT_FIELD):
        if name in fields:
            return _json_object(fields[name], name)
    if FASTSTREAM_FIELD in fields:
        return _json_object(fields[FASTSTREAM_FIELD], FASTSTREAM_FIELD)
    article: dict[str, Any] = dict(fields)
    if "metadata" in article:
        article["metadata"] = _json_object(article["metadata"], "metadata")
    return article


def validate_article(data: Any, limits: InputLimits) -> ArticleIn:
    """The input contract, in one place for every way in (stream entries, CLI, Python API)."""
    if not isinstance(data, dict):
        raise InvalidPayload(f"an article must be a JSON object, got {type(data).__name__}")
    _check_unicode(data)
    try:
        return ArticleIn.model_validate(data, context=limits)
    except ValidationError as exc:
        raise InvalidPayload(describe_validation_error(exc)) from exc


def decode_raw_article(fields: Fields, limits: InputLimits) -> ArticleEvent:
    """Validate a raw entry against the input contract and turn it into an event."""
    data = raw_article_dict(fields, limits.max_fields)
    return ArticleEvent.from_article(validate_article(data, limits))


def decode_event(fields: Fields) -> ArticleEvent:
    """Read an event written by an earlier stage."""
    if EVENT_FIELD not in fields:
        raise InvalidPayload(f"entry has no {EVENT_FIELD!r} field (fields: {sorted(fields)[:10]})")
    try:
        return ArticleEvent.model_validate_json(fields[EVENT_FIELD])
    except ValidationError as exc:
        raise InvalidPayload(describe_validation_error(exc)) from exc


def decode_fields(raw: Mapping[bytes | str, bytes | str]) -> Fields:
    """Stream entry fields as text. Bytes that are not UTF-8 are replaced, never dropped.

    A FastStream envelope (``__data__``) is unwrapped to its JSON body here, while it is bytes.
    """
    out: Fields = {}
    for key, value in raw.items():
        k = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        if k == FASTSTREAM_FIELD and isinstance(value, bytes):
            value, _headers = BinaryMessageFormatV1.parse(value)
        out[k] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return out


StreamMessageParser = Callable[[Mapping[str, Any]], Awaitable[Any]]


class EntryBatch:
    """The entries of one read, decoded once. FastStream carries it as the message body; its
    length is the bytes read (FastStream's message-size metric)."""

    __slots__ = ("entries", "size")

    def __init__(self, entries: list[Entry], size: int) -> None:
        self.entries = entries
        self.size = size

    def __len__(self) -> int:
        return self.size


async def batch_entry_parser(message: Mapping[str, Any], original: StreamMessageParser) -> Any:
    """FastStream parser for batch stream subscribers: the message body is an
    :class:`EntryBatch`.

    FastStream's own parser only understands its ``__data__`` envelope, and would re-encode
    every entry as JSON twice and decode it again; newsflow's entries are plain fields so that
    any client can read and write them. FastStream builds the message from the read without
    its entries (so its acks, context and metrics see the real entry ids), and the entries are
    decoded here once.
    """
    entries = []
    size = 0
    for entry_id, raw in zip(message["message_ids"], message["data"], strict=True):
        fields = decode_fields(raw)
        size += sum(map(len, fields.values()))
        entries.append(
            Entry(entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id), fields)
        )
    msg = await original({**message, "data": []})
    msg.raw_message = message
    msg.body = EntryBatch(entries, size)
    return msg


async def batch_entry_decoder(msg: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream decoder paired with :func:`batch_entry_parser`: the body is already decoded."""
    body = msg.body
    return body.entries if isinstance(body, EntryBatch) else await original(msg)
