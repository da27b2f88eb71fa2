"""Mojibake repair: UTF-8 read with Windows-1252, -1250 or -1251 is found and repaired; clean
text in any script is left alone (the texts are written for these tests)."""

from __future__ import annotations

import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-windows-* codecs)
import pytest

from newsflow.shared.textrepair import looks_broken, repair

CLEAN = [
    "Müller sagte, dass die Straße „gesperrt“ wird – vorerst bis März.",
    "Přímý přenos začne ve čtvrtek večer, řekl mluvčí.",
    "Привет, мир! Её дом стоит у реки.",
    "Січень був холодним, а Сім'я поїхала до Львова.",
    "Ελληνικά νέα της ημέρας.",
    "北京今天发布了新的交通规定。",
    "Łąka za domem jest już zielona, źródło też.",
    "It’s “quoted” and ‘single-quoted’ — fine.",
    "Ärger über Äpfel, Öl und Übermut.",
]


@pytest.mark.parametrize(
    ("original", "codec"),
    [
        ("Müller sagte, dass die Straße gesperrt wird.", "cp1252"),
        ("Přímý přenos začne ve čtvrtek.", "cp1250"),
        ("Łąka jest zielona.", "cp1250"),
        ("Привет, мир! Новости дня.", "cp1251"),
        ("Привет, мир! Новости дня.", "cp1252"),
        ("Ελληνικά νέα της ημέρας.", "cp1252"),
        ("北京今天发布了新的交通规定。", "cp1252"),
    ],
)
def test_utf8_read_with_a_code_page_is_repaired(original: str, codec: str) -> None:
    # As browsers and most software decode: bytes the code page leaves undefined become the
    # C1 control characters of the same number (ftfy's "sloppy" codecs).
    broken = original.encode("utf-8").decode(f"sloppy-windows-{codec[2:]}")
    assert broken != original
    assert looks_broken(broken)
    assert repair(broken) == (original, True)


@pytest.mark.parametrize("text", CLEAN)
def test_clean_text_is_not_a_suspect(text: str) -> None:
    assert not looks_broken(text)
    assert repair(text) == (text, False)


def test_only_the_encoding_is_repaired() -> None:
    # Curly quotes, ligatures and entities of a repaired text stay as they were.
    broken = "MÃ¼ller said “yes” to the ﬁnal &amp; last offer."
    assert repair(broken) == ("Müller said “yes” to the ﬁnal &amp; last offer.", True)
