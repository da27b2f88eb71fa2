"""Human-readable rendering of events with rich."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def event_summary(event: dict[str, Any]) -> str:
    """One line: id, dedup status, language, top mentions (or the DLQ reason)."""
    if "reason" in event and "stage" in event:
        return (
            f"[red]{event.get('article_id') or event.get('original_id')}[/] "
            f"dead-lettered at {event['stage']}: {event['reason']}"
        )
    if "fields" in event:
        return f"raw entry with fields {sorted(event['fields'])}"
    parts = [f"[bold]{event.get('id')}[/]"]
    dedup = event.get("dedup") or {}
    if dedup:
        status = dedup.get("status")
        if status == "unique":
            parts.append("unique")
        else:
            parts.append(
                f"{status} of {dedup.get('duplicate_of')} "
                f"({dedup.get('method')}, {dedup.get('similarity', 0):.2f})"
            )
    lang = event.get("language") or {}
    if lang:
        parts.append(
            f"lang={lang.get('code')} ({lang.get('confidence', 0):.2f}, {lang.get('script')})"
        )
    ents = event.get("entities") or {}
    if ents:
        if ents.get("status") == "ok":
            top = ", ".join(f"{m['name']}/{m['label']}" for m in ents.get("mentions", [])[:5])
            parts.append(f"entities: {top or '-'}")
        else:
            parts.append(f"entities: {ents.get('status')} ({ents.get('reason')})")
    title = event.get("title") or ""
    if title:
        parts.append(f"“{title[:60]}”")
    return "  ".join(parts)


def enriched_table(events: list[dict[str, Any]]) -> Table:
    table = Table(title="articles.enriched", show_lines=True)
    for col in ("id", "title", "language", "dedup", "entities (mentions)"):
        table.add_column(col, overflow="fold")
    for e in events:
        lang = e.get("language") or {}
        ents = e.get("entities") or {}
        if ents.get("status") == "ok":
            ent_text = (
                "\n".join(
                    f"{m['name']} [{m['label']}]×{m['count']}" for m in ents.get("mentions", [])[:8]
                )
                or "(none found)"
            )
            ent_text += f"\n[dim]{ents.get('model')}[/]"
        else:
            ent_text = f"{ents.get('status')}: {ents.get('reason')}"
        table.add_row(
            str(e.get("id")),
            str(e.get("title") or ""),
            f"{lang.get('code')} {lang.get('confidence', 0):.2f} {lang.get('script') or ''}",
            str((e.get("dedup") or {}).get("status")),
            ent_text,
        )
    return table


def print_events(console: Console, title: str, events: list[dict[str, Any]]) -> None:
    console.rule(title)
    if not events:
        console.print("(none)")
    for event in events:
        console.print(event_summary(event))
