from __future__ import annotations

from newsflow.dedup.index import Decision
from newsflow.dedup.logic import section
from newsflow.dedup.minhash import MinHashParams, estimate_jaccard, features
from newsflow.dedup.textnorm import (
    canonical_text,
    jaccard,
    shingles,
    strip_boilerplate,
    tokens,
    tokens_of,
)
from newsflow.shared.textrepair import repair

STORY = (
    "The harbour authority of Port Elwin opened a new ferry terminal on Friday after three "
    "years of construction. Mayor Clara Duvall said the terminal would serve two million "
    "passengers a year and create four hundred jobs in the district. The Elwin Transit "
    "Authority will add three routes to the islands next spring, and fares will stay at "
    "their current level until the end of the year, officials said on Friday evening."
)
P = MinHashParams()


def test_canonical_text_ignores_case_width_punctuation_whitespace() -> None:
    assert canonical_text("Hello,   World!\n") == canonical_text("ＨＥＬＬＯ world")
    assert canonical_text("Hello world") != canonical_text("Hello there world")


def test_boilerplate_lines_do_not_decide_identity() -> None:
    noisy = "خبرگزاری فارس | اخبار\n" + STORY + "\nSource link\nLeave a Reply\nRead more"
    assert canonical_text(noisy) == canonical_text(STORY)
    assert strip_boilerplate("Subscribe") == "Subscribe", "never strip a text to nothing"
    long_line = "Subscribe " + "x " * 80
    assert "Subscribe" in strip_boilerplate(long_line + "\n" + STORY)


def test_mojibake_is_repaired_before_hashing() -> None:
    broken = "MÃ¼ller sagte, dass die StraÃŸe gesperrt wird."
    assert repair(broken) == ("Müller sagte, dass die Straße gesperrt wird.", True)
    assert repair("plain text") == ("plain text", False)
    assert canonical_text(broken) == canonical_text("Müller sagte, dass die Straße gesperrt wird.")


def test_tokens_for_scripts_without_spaces() -> None:
    assert tokens("東京都は and 42") == [t.encode() for t in ["東", "京", "都", "は", "and", "42"]]
    assert tokens("„zitat“ – ein test, gpa-djp (apa) 3,5 €") == [
        b"zitat", b"ein", b"test", b"gpa", b"djp", b"apa", b"3", b"5",
    ]  # fmt: skip
    assert shingles([b"a", b"b", b"c", b"d"]) == [b"a b c", b"b c d"]
    assert shingles([b"a"]) == [b"a"] and shingles([]) == []


def test_minhash_estimate_tracks_true_jaccard() -> None:
    edited = STORY.replace("Friday after", "Thursday after").replace("four hundred", "500")
    fa, fb = features("a", STORY, None, P), features("b", edited, None, P)
    true = jaccard(shingles(tokens_of(STORY)), shingles(tokens_of(edited)))
    assert abs(estimate_jaccard(fa.signature, fb.signature) - true) < 0.12
    assert len(fa.signature) == P.num_perm and len(fa.bands) == 4 * P.bands
    assert fa.ref != fb.ref and fa.url == b""
    other = features("c", "A completely different story about football and weather.", None, P)
    assert estimate_jaccard(fa.signature, other.signature) < 0.1


def test_url_feature_uses_the_canonical_url() -> None:
    a = features("a", STORY, "https://www.example.com/x/?utm_source=rss#top", P)
    b = features("b", "other text", "http://example.com/x", P)
    assert a.url == b.url and len(a.url) == 6


def test_section_from_decision() -> None:
    unique = section(Decision("a", "a", "unique", "", 1.0), "fp")
    assert (unique.status, unique.duplicate_of, unique.cluster_id, unique.method) == (
        "unique", None, "a", None,
    )  # fmt: skip
    near = section(Decision("b", "a", "near_duplicate", "minhash", 0.8671875), "fp")
    assert (near.duplicate_of, near.cluster_id, near.similarity, near.method) == (
        "a", "a", 0.8672, "minhash",
    )  # fmt: skip
