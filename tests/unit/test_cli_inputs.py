from __future__ import annotations

import io
import json
from pathlib import Path

from newsflow.cli.inputs import read_inputs


def test_jsonl_json_array_and_txt(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"text": "one"}) + "\n\n" + "{broken\n" + json.dumps([1]) + "\n",
        encoding="utf-8",
    )
    (tmp_path / "b.json").write_text(json.dumps([{"text": "two"}, "nope"]), encoding="utf-8")
    (tmp_path / "story-7.txt").write_text("\n  My Title \nFirst line.\nSecond line.\n", "utf-8")
    items = list(
        read_inputs(
            [str(tmp_path / n) for n in ("a.jsonl", "b.json", "story-7.txt")], io.StringIO()
        )
    )
    assert [i.data for i in items if i.data] == [
        {"text": "one"},
        {"text": "two"},
        {"id": "story-7", "title": "My Title", "text": "First line.\nSecond line."},
    ]
    errors = [(i.origin, i.error) for i in items if i.error]
    assert errors[0][0].endswith("a.jsonl:3") and "invalid JSON" in str(errors[0][1])
    assert errors[1][0].endswith("a.jsonl:4") and "expected a JSON object" in str(errors[1][1])
    assert errors[2][0].endswith("b.json[2]")


def test_stdin_jsonl_and_array() -> None:
    lines = io.StringIO('{"text": "a"}\n{"text": "b"}\n')
    assert [i.data for i in read_inputs(["-"], lines)] == [{"text": "a"}, {"text": "b"}]
    array = io.StringIO('[{"text": "a"}]')
    assert [i.data for i in read_inputs([], array)] == [{"text": "a"}]


def test_missing_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    items = list(
        read_inputs([str(tmp_path / "empty.txt"), str(tmp_path / "nope.jsonl")], io.StringIO())
    )
    assert items[0].error == "file is empty"
    assert items[1].error is not None and "cannot read file" in items[1].error
