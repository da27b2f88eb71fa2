from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from newsflow.shared.errors import InvalidPayload
from newsflow.shared.events import (
    SCHEMA_VERSION,
    ArticleEvent,
    ArticleIn,
    DedupSection,
    InputLimits,
)
from newsflow.shared.ids import canonical_url, derive_article_id, normalise_for_hash
from newsflow.shared.wire import (
    decode_event,
    decode_fields,
    decode_raw_article,
    encode_article,
    encode_event,
    validate_article,
)

LIMITS = InputLimits()


def test_canonical_url_drops_tracking_fragment_www_and_scheme() -> None:
    a = canonical_url("http://www.Example.com:80/news/story/?utm_source=x&b=2&a=1#comments")
    b = canonical_url("https://example.com/news/story?a=1&b=2&fbclid=abc")
    assert a == b == "https://example.com/news/story?a=1&b=2"


def test_canonical_url_keeps_meaningful_differences() -> None:
    assert canonical_url("https://example.com/a?id=1") != canonical_url(
        "https://example.com/a?id=2"
    )
    assert canonical_url("https://example.com/a") != canonical_url("https://example.org/a")


def test_id_from_url_is_deterministic_and_tracking_insensitive() -> None:
    a = derive_article_id(url="https://example.com/x?utm_medium=rss", title="A", text="t")
    b = derive_article_id(url="https://www.example.com/x", title="B", text="other")
    assert a == b and a.startswith("u-")


def test_id_from_content_when_no_url() -> None:
    a = derive_article_id(url=None, title="Title", text="Some  Text")
    b = derive_article_id(url=None, title="title", text="some text")
    c = derive_article_id(url=None, title="title", text="other text")
    assert a == b != c and a.startswith("c-")


def test_normalise_for_hash_nfkc_casefold_whitespace() -> None:
    assert normalise_for_hash("Ｆｕｌｌ\u00a0WIDTH\n\tStraße") == "full width strasse"


def test_article_requires_non_empty_text() -> None:
    with pytest.raises(ValidationError, match="text is empty"):
        ArticleIn.model_validate({"title": "x", "text": " \n\t "})
    with pytest.raises(ValidationError, match="Field required"):
        ArticleIn.model_validate({"title": "x"})


def test_text_size_limit_is_enforced_not_truncated() -> None:
    small = InputLimits(max_text_bytes=10)
    with pytest.raises(ValidationError, match="over the limit of 10 bytes"):
        ArticleIn.model_validate({"text": "é" * 6}, context=small)
    ok = ArticleIn.model_validate({"text": "é" * 5}, context=small)
    assert ok.text == "é" * 5


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ArticleIn.model_validate({"text": "x", "body": "y"})


def test_metadata_size_and_bad_values() -> None:
    with pytest.raises(ValidationError, match="metadata is"):
        ArticleIn.model_validate(
            {"text": "x", "metadata": {"k": "v" * 100}}, context=InputLimits(max_metadata_bytes=50)
        )
    with pytest.raises(ValidationError):
        ArticleIn.model_validate({"text": "x", "metadata": {"deep": {"a": {"b": 1}}}})


def test_bad_id_url_and_language_hint() -> None:
    for bad in ({"id": "has space"}, {"url": "ftp://x"}, {"language_hint": "english!"}):
        with pytest.raises(ValidationError):
            ArticleIn.model_validate({"text": "x", **bad})


def test_naive_published_at_is_utc() -> None:
    a = ArticleIn.model_validate({"text": "x", "published_at": "2026-01-02T03:04:05"})
    assert a.published_at is not None and a.published_at.utcoffset() is not None


def test_event_round_trip_through_the_wire() -> None:
    fields = encode_article({"title": "T", "text": "Body", "url": "https://e.com/a"})
    event = decode_raw_article(fields, LIMITS)
    assert event.id.startswith("u-") and event.schema_version == SCHEMA_VERSION
    stamped = event.traced(
        "dedup",
        "c1",
        dedup=DedupSection(status="unique", similarity=1.0, fingerprint="f"),
    )
    wire = encode_event(stamped)
    assert wire["id"] == event.id
    payload = json.loads(wire["event"])
    assert payload["dedup"]["status"] == "unique"
    assert set(payload["trace"]) == {"dedup"}
    again = decode_event(wire)
    assert again == stamped


def test_raw_forms_flat_fields_and_faststream_envelope() -> None:
    flat = decode_raw_article({"title": "T", "text": "hello", "metadata": '{"a": 1}'}, LIMITS)
    assert flat.text == "hello" and flat.metadata == {"a": 1}
    envelope = json.dumps({"data": json.dumps({"text": "from faststream"}), "headers": {}})
    fs = decode_raw_article(decode_fields({b"__data__": envelope.encode()}), LIMITS)
    assert fs.text == "from faststream"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, "no fields"),
        ({"article": "{not json"}, "not valid JSON"),
        ({"article": "[1, 2]"}, "must hold a JSON object"),
        ({"article": '{"title": "x"}'}, "text: Field required"),
        ({"article": '{"text": "ok", "published_at": "yesterday"}'}, "published_at"),
    ],
)
def test_invalid_raw_entries_raise_permanent_errors(fields: dict[str, str], reason: str) -> None:
    with pytest.raises(InvalidPayload, match=reason):
        decode_raw_article(fields, LIMITS)


def test_decode_event_rejects_foreign_entries() -> None:
    with pytest.raises(InvalidPayload, match="no 'event' field"):
        decode_event({"foo": "bar"})
    with pytest.raises(InvalidPayload, match="schema_version"):
        decode_event({"event": json.dumps({"id": "a", "text": "x", "schema_version": 99})})


def test_non_utf8_bytes_are_replaced_not_lost() -> None:
    fields = decode_fields({b"text": b"caf\xe9 au lait"})
    assert fields["text"] == "caf\ufffd au lait"


def test_event_json_is_plain_json_with_sections() -> None:
    event = ArticleEvent(id="a1", text="x")
    data = json.loads(event.model_dump_json())
    for key in ("schema_version", "id", "title", "text", "url", "dedup", "language", "entities"):
        assert key in data
    assert data["trace"] == {}


def test_redis_credentials_from_settings_and_files(tmp_path: Path) -> None:
    from newsflow.shared.settings import Settings

    secret = tmp_path / "pw"
    secret.write_text("s3cr:et/pw\n", encoding="utf-8")
    s = Settings(
        redis_url="rediss://old:oldpw@redis.example:6380/2",
        redis_username="dedup",
        redis_password_file=secret,
        redis_ca_file=tmp_path / "ca.pem",
    )
    dsn = s.redis_dsn()
    assert dsn.startswith("rediss://dedup:s3cr%3Aet%2Fpw@redis.example:6380/2?ssl_ca_certs=")
    assert "oldpw" not in dsn
    assert s.redis_display() == "rediss://redis.example:6380/2"
    plain = Settings(redis_url="redis://localhost:6379/0", redis_password="pw")
    assert plain.redis_dsn() == "redis://:pw@localhost:6379/0"
    assert "pw" not in repr(plain), "the password is a secret in the settings' repr"
    assert Settings(redis_url="redis://u:p@h/0").redis_dsn() == "redis://u:p@h/0"


def test_python_values_reach_the_contract_and_cycles_are_refused() -> None:
    from datetime import UTC, datetime

    # The Python API may hand over a datetime: the contract takes it (no JSON round trip).
    when = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    article = validate_article({"text": "Body", "published_at": when}, LIMITS)
    assert article.published_at == when
    # A lone surrogate is found at any depth, in keys too.
    with pytest.raises(InvalidPayload, match="lone surrogate"):
        validate_article({"text": "Body", "metadata": {"a": [{"b\ud800": 1}]}}, LIMITS)
    # A cycle is a clear error, not a hang or a crash.
    looped: dict[str, object] = {}
    looped["self"] = looped
    with pytest.raises(InvalidPayload, match="metadata"):
        validate_article({"text": "Body", "metadata": looped}, LIMITS)
