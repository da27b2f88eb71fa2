"""A second opinion from lingua where fastText is unsure. No Redis, no FastStream.

fastText lid.176 is fast but weak on short text in close languages (nb/nn/da/sv, bs/hr/sr,
ms/id, ru/uk/bg/mk/be, fa/ur/ar) and does not know some languages at all (Luganda, Maori,
Shona, Sotho, Tswana, Tsonga, Xhosa, Yoruba, Zulu; Bosnian is folded into Croatian). lingua's
high-accuracy models are accurate there but slow when asked to choose among all 75 of its
languages. So lingua is only asked when fastText is unsure, and only to choose among a few
candidates: fastText's own top guesses, their close relatives, and the languages fastText
lacks in that script. Its cost then grows with the handful of candidates, not
with 75 languages. Models are loaded lazily, per language, the first time a language is a
candidate (about 15 MB each), and shared by every detector. (CLD2, cld2.py, answers first
where it can; lingua decides between the CLOSE languages below and where the two disagree.)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

# Close languages that fastText confuses on short text: when one is a candidate, all are.
# Members lingua does not know (fastText's pnb, ne, hbs, ...) lead to the ones it knows.
# Between these lingua decides, not CLD2 (see logic.py).
CLOSE: tuple[frozenset[str], ...] = (
    frozenset({"nb", "nn", "da", "sv", "no"}),
    frozenset({"bs", "hr", "sr", "hbs"}),
    frozenset({"ms", "id"}),
    frozenset({"ru", "uk", "bg", "mk", "be"}),
    frozenset({"fa", "ur", "ar", "pnb"}),
    frozenset({"hi", "mr", "ne", "bho", "mai", "sa", "gom", "new"}),
    frozenset({"zh", "ja", "wuu", "yue"}),
    # Nguni and Sotho-Tswana: close pairs within the Bantu languages below.
    frozenset({"zu", "xh"}),
    frozenset({"st", "tn"}),
)
CLOSE_MEMBERS: frozenset[str] = frozenset().union(*CLOSE)
# Bantu languages: lid.176 knows Swahili but none of the southern ones lingua knows, and ranks
# Swahili low on short text; when one is a candidate, all are.
BANTU = frozenset({"sw", "zu", "xh", "st", "tn", "ts", "sn", "lg"})
CONFUSABLE: tuple[frozenset[str], ...] = (*CLOSE, BANTU)
# Each member of a confusable group -> the group.
SIBLINGS: dict[str, frozenset[str]] = {code: group for group in CONFUSABLE for code in group}
# Languages lingua knows and lid.176 does not (or folds into another), by script.
LID176_MISSING: dict[str, frozenset[str]] = {
    "Latn": frozenset({"bs", "lg", "mi", "sn", "so", "st", "tn", "ts", "xh", "yo", "zu"}),
}
# fastText (BCP-47 of lid.176 labels) -> lingua ISO 639-1 codes it may stand for.
FROM_FASTTEXT = {"no": ("nb",), "hbs": ("hr", "sr", "bs")}
# fastText guesses below this probability (other than its best) are not candidates.
MIN_CANDIDATE = 0.01
# From this many characters on, lingua's trigram-only (low accuracy) mode is as good as the
# high-accuracy one and about twice as fast (lingua's own advice).
LONG_TEXT = 120
# Text handed to lingua is capped: its cost is linear in length and a few hundred characters
# of the main language's text decide as well as the whole article.
MAX_CHARS = 1000
# With more candidates than this, lingua's trigram-only (low accuracy) mode ranks them first,
# on the text's first LONG_TEXT characters, and the final reading chooses among its top
# SCREEN_KEEP. A high-accuracy call costs about 40 us per candidate on a 100-character sentence
# here, the ranking about a third of that, and a Latin text fastText is unsure of has ~17
# candidates (the languages lid.176 lacks are always among them). Measured on the eval data:
# sentences 30 % faster and macro accuracy 0.9535 -> 0.9551; on the synthetic articles (pieces
# of 300-1,000 characters) lingua's time -27 %, the same answers.
SCREEN_KEEP = 3


def lingua_codes() -> frozenset[str]:
    from lingua import Language

    return frozenset(lang.iso_code_639_1.name.lower() for lang in Language.all())


def candidates(
    ranked: Iterable[tuple[str, float]], script: str | None, known: frozenset[str]
) -> frozenset[str]:
    """Languages lingua should choose among: fastText's guesses (mapped to lingua's codes),
    the languages fastText lacks in the text's script, and the close relatives of each."""
    picked: set[str] = set()
    for rank, (code, share) in enumerate(ranked):
        if rank and share < MIN_CANDIDATE:
            continue
        for mapped in FROM_FASTTEXT.get(code, (code,)):
            picked.add(mapped)
            picked |= SIBLINGS.get(mapped, frozenset())
    if script:
        for missing in LID176_MISSING.get(script, frozenset()):
            picked.add(missing)
            picked |= SIBLINGS.get(missing, frozenset())
    return frozenset(picked & known)


class SecondOpinion:
    """lingua restricted to a few candidate languages per call: its trigram models rank many
    candidates, its high-accuracy models read short text (see SCREEN_KEEP)."""

    def __init__(self, languages: Iterable[str] | None = None, max_detectors: int = 8192) -> None:
        """``languages``: the lingua languages that may be candidates (all 75 by default)."""
        import lingua

        self._lingua = lingua
        available = lingua_codes()
        if languages is not None:
            wanted = frozenset(code.lower() for code in languages)
            if unknown := wanted - available:
                raise ValueError(f"lingua has no model for: {', '.join(sorted(unknown))}")
            available = wanted
        self.known = available
        self._detectors: OrderedDict[tuple[frozenset[str], bool], Any] = OrderedDict()
        self._max = max_detectors

    def _builder(self, codes: frozenset[str]) -> Any:
        """A lingua detector builder for these ISO 639-1 codes."""
        lingua = self._lingua
        languages = [
            lingua.Language.from_iso_code_639_1(getattr(lingua.IsoCode639_1, c.upper()))
            for c in sorted(codes)
        ]
        return lingua.LanguageDetectorBuilder.from_languages(*languages)

    def _detector(self, codes: frozenset[str], low_accuracy: bool) -> Any:
        key = (codes, low_accuracy)
        detector = self._detectors.get(key)
        if detector is None:
            builder = self._builder(codes)
            if low_accuracy:
                builder = builder.with_low_accuracy_mode()
            detector = builder.build()
            self._detectors[key] = detector
            if len(self._detectors) > self._max:
                self._detectors.popitem(last=False)
        else:
            self._detectors.move_to_end(key)
        return detector

    def ask(self, text: str, codes: frozenset[str]) -> dict[str, float]:
        """lingua's probabilities over ``codes`` (at least two) for ``text``; empty when it
        cannot tell (no letters it knows). With many candidates, only the SCREEN_KEEP that
        lingua's trigram ranking puts first get a probability: the ranking reads at most
        LONG_TEXT characters, then short text is read by the high-accuracy models and long
        text by the trigram models again, on the whole of it."""
        if len(codes) < 2:
            return {}
        text = text[:MAX_CHARS]
        long = len(text) >= LONG_TEXT
        if len(codes) > SCREEN_KEEP:
            ranked = self.screen(text, codes)
            if ranked:  # else (no trigram it knows): the final models over all of them
                top = sorted(ranked, key=ranked.__getitem__, reverse=True)[:SCREEN_KEEP]
                codes = frozenset(top)
        return self._values(self._detector(codes, low_accuracy=long), text)

    def screen(self, text: str, codes: frozenset[str], chars: int = LONG_TEXT) -> dict[str, float]:
        """lingua's trigram-only (low accuracy) probabilities over ``codes`` for the first
        ``chars`` characters of ``text``: the cheap ranking :meth:`ask` starts with."""
        if len(codes) < 2:
            return {}
        return self._values(self._detector(codes, low_accuracy=True), text[:chars])

    @staticmethod
    def _values(detector: Any, text: str) -> dict[str, float]:
        """The detector's probabilities per ISO 639-1 code; empty when all are zero."""
        values = detector.compute_language_confidence_values(text)
        out = {v.language.iso_code_639_1.name.lower(): float(v.value) for v in values}
        return out if any(out.values()) else {}

    def preload(self, codes: Iterable[str]) -> None:
        """Load the models of ``codes`` now (a service does this before it reports ready)."""
        known = frozenset(codes) & self.known
        if len(known) >= 2:
            self._builder(known).with_preloaded_language_models().build()
