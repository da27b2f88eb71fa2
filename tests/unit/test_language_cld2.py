"""CLD2's opinion: reliable answers with their shares, newsflow's codes, nothing otherwise
(the texts are written for these tests)."""

from __future__ import annotations

import pytest

from newsflow.language.cld2 import cld2_opinion


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Abantu abaningi bahlala emadolobheni amakhulu aseNingizimu Afrika.", "zu"),
        ("Kua tae mai ngā manuhiri ki te marae i te ahiahi nei.", "mi"),
        ("Regjeringen vil ikke si hva det nye budsjettet inneholder før neste uke.", "nb"),
        ("הממשלה אישרה היום את התקציב החדש לשנה הבאה.", "he"),  # CLD2 says "iw"
        ("北京市政府今天发布了新的交通管理规定，明年一月起实施。", "zh"),
    ],
)
def test_a_reliable_answer_in_newsflow_codes(text: str, code: str) -> None:
    opinion = cld2_opinion(text)
    assert max(opinion, key=opinion.__getitem__) == code
    assert sum(opinion.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("text", ["", "12345 !!!", "ok", "broken \\ud800 surrogate"])
def test_no_reliable_answer_is_no_opinion(text: str) -> None:
    assert cld2_opinion(text.encode().decode("unicode_escape")) == {}
