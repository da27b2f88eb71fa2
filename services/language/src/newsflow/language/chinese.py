"""Simplified or Traditional Chinese, from characters that differ between the two scripts."""

from __future__ import annotations

import re

# Frequent characters written differently in the two systems (simplified, traditional).
_PAIRS = (
    "这這 国國 说說 时時 会會 来來 为為 对對 发發 经經 们們 个個 学學 后後 过過 还還 进進 动動 "
    "问問 长長 开開 关關 现現 实實 与與 东東 车車 业業 书書 门門 见見 话話 认認 间間 让讓 "
    "电電 记記 应應 头頭 体體 没沒 报報 将將 总總 员員 产產 义義 区區 华華 币幣 价價 变變 "
    "务務 难難 级級 观觀 场場 机機 样樣 岁歲 几幾 边邊 选選 写寫 单單 转轉 气氣 战戰 军軍 "
    "济濟 际際 导導 网網 县縣 钱錢 听聽 医醫 银銀 线線 统統 称稱 热熱 鸡雞 鱼魚 马馬 龙龍"
).split()
SIMPLIFIED = frozenset(pair[0] for pair in _PAIRS)
TRADITIONAL = frozenset(pair[1] for pair in _PAIRS)
_SIMPLIFIED_RE = re.compile(f"[{''.join(sorted(SIMPLIFIED))}]")
_TRADITIONAL_RE = re.compile(f"[{''.join(sorted(TRADITIONAL))}]")


def chinese_script(text: str) -> str | None:
    """``Hans``, ``Hant``, or None when the text has none of the telling characters."""
    simplified = len(_SIMPLIFIED_RE.findall(text))
    traditional = len(_TRADITIONAL_RE.findall(text))
    if simplified == traditional:
        return None
    return "Hans" if simplified > traditional else "Hant"
