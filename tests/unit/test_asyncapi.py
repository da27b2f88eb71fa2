"""The checked-in AsyncAPI document is the one the code generates (run `make docs`)."""

from __future__ import annotations

import json
from pathlib import Path

from newsflow.cli.asyncapi import build, render

ROOT = Path(__file__).resolve().parents[2]


def test_checked_in_document_is_up_to_date() -> None:
    checked_in = (ROOT / "shared" / "asyncapi.json").read_text(encoding="utf-8")
    assert checked_in == render(), "shared/asyncapi.json is stale: run `make docs`"


def test_every_reference_resolves() -> None:
    document = build()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target: object = document
                for part in ref.removeprefix("#/").split("/"):
                    assert isinstance(target, dict) and part in target, ref
                    target = target[part]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert document["asyncapi"] == "3.0.0"
    enriched = document["channels"]["articles.enriched"]["messages"]
    assert set(enriched) == {"ArticleEvent"}
    schema = document["components"]["schemas"]["EntitiesSection"]
    assert "skipped" in json.dumps(schema)  # the contract's latest status values are in it
