"""Reading articles from files: JSONL, a JSON array (or one object), or plain ``.txt``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from newsflow.shared.publisher import Candidate


def _from_json_value(value: object, origin: str) -> Iterator[Candidate]:
    items = value if isinstance(value, list) else [value]
    for n, item in enumerate(items, 1):
        where = f"{origin}[{n}]" if isinstance(value, list) else origin
        if isinstance(item, dict):
            yield Candidate(where, item)
        else:
            yield Candidate(where, None, f"expected a JSON object, got {type(item).__name__}")


def _from_jsonl(lines: Iterable[str], origin: str) -> Iterator[Candidate]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{origin}:{n}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Candidate(where, None, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if isinstance(value, dict):
            yield Candidate(where, value)
        else:
            yield Candidate(where, None, f"expected a JSON object, got {type(value).__name__}")


def _from_json_text(text: str, origin: str) -> Iterator[Candidate]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Candidate(origin, None, f"invalid JSON: {exc.msg} at line {exc.lineno}")
        return
    yield from _from_json_value(value, origin)


def article_from_txt(path: Path, content: str) -> Candidate:
    """id = file stem, title = first non-empty line, text = the rest."""
    lines = content.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return Candidate(str(path), None, "file is empty")
    title = lines[first].strip()
    text = "\n".join(lines[first + 1 :]).strip("\n")
    return Candidate(str(path), {"id": path.stem, "title": title, "text": text})


def read_path(path: Path) -> Iterator[Candidate]:
    try:
        # Bytes that are not UTF-8 become U+FFFD, as on the stream path: one bad byte does not
        # cost the whole file.
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        yield Candidate(str(path), None, f"cannot read file: {exc}")
        return
    suffix = path.suffix.lower()
    if suffix == ".txt":
        yield article_from_txt(path, content)
    elif suffix == ".json":
        yield from _from_json_text(content, str(path))
    else:
        yield from _from_jsonl(content.splitlines(), str(path))


def read_stream(stream: IO[str], origin: str = "<stdin>") -> Iterator[Candidate]:
    content = stream.read()
    if content.lstrip().startswith("["):
        yield from _from_json_text(content, origin)
    else:
        yield from _from_jsonl(content.splitlines(), origin)


def read_inputs(sources: list[str], stdin: IO[str]) -> Iterator[Candidate]:
    for source in sources or ["-"]:
        if source == "-":
            yield from read_stream(stdin)
        else:
            yield from read_path(Path(source))
