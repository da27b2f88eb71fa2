"""Simplified Chinese is read by the Traditional-trained pipeline in Traditional characters."""

from __future__ import annotations

import pytest

from newsflow.entity.chinese import to_simplified, to_traditional
from newsflow.entity.logic import Document, EntityExtractor
from newsflow.entity.models import ModelRegistry


@pytest.mark.parametrize(
    ("simplified", "traditional"),
    [
        ("国务院总理李强在上海出席了会议。", "國務院總理李強在上海出席了會議。"),
        (
            "他的头发很长，后来才剪。",
            "他的頭髮很長，後來才剪。",
        ),  # phrases: 头发 → 頭髮, 后来 → 後來
        ("阿里巴巴集团 Alibaba 2024", "阿里巴巴集團 Alibaba 2024"),
    ],
)
def test_conversion_keeps_every_offset(simplified: str, traditional: str) -> None:
    assert to_traditional(simplified) == traditional
    assert len(to_traditional(simplified)) == len(simplified)
    assert to_simplified(traditional) == simplified


def test_text_without_han_is_untouched() -> None:
    text = "Olaf Scholz traf Vertreter von Siemens."
    assert to_traditional(text) is text


def test_simplified_article_gets_the_entities_of_its_traditional_reading() -> None:
    registry = ModelRegistry({"zh": ["zh_newsflow_ner"]}, max_length=10_000)
    registry.load()
    pipeline = registry.for_language("zh")
    assert pipeline is not None and pipeline.model.chinese == "Hant"
    text = "国务院总理李强在上海出席了会议。"
    (section,) = EntityExtractor(registry).extract_batch([Document("zh", "", text)])
    found = {(i.text, i.label) for i in section.items}
    assert {("李强", "PER"), ("上海", "LOC")} <= found, found  # cut from the original text
    for item in section.items:
        assert text[item.start : item.end] == item.text
