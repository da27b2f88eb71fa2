"""The numpy reader of lid.176 gives fasttext-predict's answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsflow.language.lid176 import Lid176, ModelFormatError
from newsflow.language.logic import LanguageIdentifier, clean_line, default_model_path

# Our own lines: many scripts, mixed text, odd tokens.
TEXTS = [
    "The council approved the new budget after a long debate on Tuesday evening.",
    "Der Stadtrat hat den neuen Haushalt nach einer langen Debatte beschlossen.",
    "Le conseil municipal a adopté le nouveau budget après un long débat mardi soir.",
    "El ayuntamiento aprobó el nuevo presupuesto tras un largo debate el martes.",
    "Kommunfullmäktige godkände den nya budgeten efter en lång debatt i tisdags.",
    "Bystyret vedtok det nye budsjettet etter en lang debatt tirsdag kveld.",
    "Gradsko vijeće usvojilo je novi proračun nakon duge rasprave u utorak.",
    "Городской совет утвердил новый бюджет после долгих споров во вторник.",
    "Міська рада ухвалила новий бюджет після тривалих дебатів у вівторок.",
    "شورای شهر بودجه جدید را پس از بحثی طولانی در روز سه شنبه تصویب کرد.",
    "مجلس المدينة وافق على الميزانية الجديدة بعد نقاش طويل يوم الثلاثاء.",
    "नगर परिषद ने मंगलवार को लंबी बहस के बाद नया बजट मंजूर किया।",
    "市议会在周二经过长时间辩论后批准了新的预算。",
    "市議会は火曜日、長い議論の末に新しい予算を承認しました。",
    "시의회는 화요일 긴 토론 끝에 새 예산을 승인했다.",
    "Το δημοτικό συμβούλιο ενέκρινε τον νέο προϋπολογισμό την Τρίτη.",
    "מועצת העיר אישרה את התקציב החדש לאחר דיון ארוך ביום שלישי.",
    "สภาเมืองอนุมัติงบประมาณใหม่หลังการอภิปรายที่ยาวนานเมื่อวันอังคาร",
    "Dewan kota menyetujui anggaran baru setelah perdebatan panjang pada hari Selasa.",
    "Read more: Cookies help us deliver our services. Lesen Sie auch: Wetter 🌧️",
    "ÃœBER UNS Ã¤ Ã¶ Ã¼ — mojibake line",
    "a",
    "",
    "   ",
    "__label__en __label__xx only labels",
    "before </s> after the end-of-line token",
    "NUL\x00inside the line",
    "tab\tand\x0bvertical\x0cfeed\rseparators",
    "Ünïcödé ﬁ ligature ß ǅ titlecase ⅷ",
    "naïve café façade coöperate",
    "x" * 3000,
    " ".join(["Nachrichten", "aus", "der", "Region"] * 200),
]


@pytest.fixture(scope="module")
def fasttext_model() -> object:
    import fasttext

    return fasttext.load_model(str(default_model_path()))


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


def _fasttext(model: object, text: str, k: int, threshold: float) -> list[tuple[float, str]]:
    return list(model.f.predict(text + "\n", k, threshold, "strict"))  # type: ignore[attr-defined]


def _assert_same(ours: list[tuple[float, str]], theirs: list[tuple[float, str]], text: str) -> None:
    assert [label for _, label in ours] == [label for _, label in theirs], text[:60]
    for (p, _), (q, _) in zip(ours, theirs, strict=True):
        assert p == pytest.approx(q, abs=1e-5), text[:60]


@pytest.mark.parametrize("kept_tokens", [1 << 17, 0, 40])
@pytest.mark.parametrize(("k", "threshold"), [(5, 0.01), (1, 0.0), (176, 0.0), (3, 0.5)])
def test_the_reader_gives_fasttexts_answers(
    fasttext_model: object, kept_tokens: int, k: int, threshold: float
) -> None:
    reader = Lid176.load(default_model_path(), kept_tokens)
    texts = [*TEXTS, *(clean_line(t) for t in TEXTS)]
    # Twice over, so the second pass reads kept vectors where the store keeps any.
    for _ in range(2):
        for text, ours in zip(texts, reader.predict_many(texts, k, threshold), strict=True):
            _assert_same(ours, _fasttext(fasttext_model, text, k, threshold), text)
    assert reader.kept <= kept_tokens


def test_one_text_at_a_time_and_a_batch_agree(fasttext_model: object) -> None:
    reader = Lid176.load(default_model_path())
    batch = reader.predict_many(TEXTS, 5, 0.01)
    reader.forget()
    assert reader.kept == 0
    for text, together in zip(TEXTS, batch, strict=True):
        alone = reader.predict_many([text], 5, 0.01)[0]
        _assert_same(alone, together, text)
    assert reader.predict_many([]) == []


def test_a_large_batch_is_read_in_bounded_passes(
    fasttext_model: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsflow.language import lid176

    monkeypatch.setattr(lid176, "MAX_PASS_BYTES", 200)  # a few texts per pass, long ones alone
    reader = Lid176.load(default_model_path())
    for text, ours in zip(TEXTS, reader.predict_many(TEXTS, 5, 0.01), strict=True):
        _assert_same(ours, _fasttext(fasttext_model, text, 5, 0.01), text)


def test_the_store_is_bounded_and_starts_over_when_full() -> None:
    reader = Lid176.load(default_model_path(), kept_tokens=30)
    reader.predict_many(["one two three four five six seven eight nine ten"])
    assert reader.kept == 10
    reader.predict_many(["eleven twelve thirteen " * 3])
    assert reader.kept == 13
    many = " ".join(f"word{i}" for i in range(25))  # 25 new: 38 > 30, so it starts over
    reader.predict_many([many])
    assert reader.kept == 25


def test_a_file_that_is_not_a_quantised_model_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "model.ftz"
    bogus.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFormatError, match="not a fastText model"):
        Lid176.load(bogus)


def test_the_identifier_answers_the_same_in_a_batch_and_alone(
    identifier: LanguageIdentifier,
) -> None:
    documents = [(f"{text}\n{TEXTS[(i + 3) % 20]}", "", None) for i, text in enumerate(TEXTS)]
    assert sum(len(text) for text, _, _ in documents) > 2000  # the numpy reader's batch
    together = identifier.identify_many(documents)
    for (text, title, hint), section in zip(documents, together, strict=True):
        alone = identifier.identify(text, title, hint)
        # Probabilities may differ in the 7th digit (float64 sums against float32).
        assert alone.confidence == pytest.approx(section.confidence, abs=1e-3)
        assert alone.model_copy(update={"confidence": section.confidence}) == section
