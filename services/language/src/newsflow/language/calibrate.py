"""Fit the language confidence's calibration: ``make calibrate-language DATA=../shared/eval``.

The identifier answers every text of the dev data (sentences, word pairs, single words and the
eval's synthetic articles, 75 languages) with no confidence floor, recording each answer's raw
score, amount of text and the share of it that CLD2 gave; a logistic regression of "the answer
is right" on logit(raw score), ln(min(letters, cap)) and that share gives the parameters of
logic.CALIBRATION. It prints them with the expected calibration error per kind, and the error
when fitted on half the languages and measured on the other half (both ways).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from newsflow.language.evaluate import _articles, _load, _norm
from newsflow.language.logic import (
    CALIBRATION,
    CALIBRATION_LETTERS_CAP,
    LanguageIdentifier,
)
from newsflow.shared.settings import load_settings
from newsflow.shared.textrepair import repair

Rows = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str], list[str]]


def _answers(identifier: LanguageIdentifier, data: Path, articles: int, seed: int) -> Rows:
    """Features (logit raw, ln letters, CLD2's share), right (0/1), kind and gold language per
    answer."""
    kinds = {k: _load(data, k, None) for k in ("sentences", "word-pairs", "single-words")}
    synthetic: dict[str, list[str]] = {}
    for lang, text, _clean in _articles(kinds["sentences"], articles, seed):
        synthetic.setdefault(lang, []).append(text)
    kinds["articles"] = synthetic
    features, right, kind_of, lang_of = [], [], [], []
    recorded: list[tuple[float, int, float]] = []
    identifier.features = recorded
    for kind, samples in kinds.items():
        for lang, texts in samples.items():
            for raw_text in texts:
                section = identifier.identify(repair(raw_text)[0])
                if section.code == "und":  # too little text: no answer to calibrate
                    continue
                raw, letters, by_cld2 = recorded[-1]
                raw = min(max(raw, 1e-4), 1 - 1e-4)
                letters = min(letters, CALIBRATION_LETTERS_CAP)
                features.append((math.log(raw / (1 - raw)), math.log(max(1, letters)), by_cld2))
                right.append(float(_norm(section.code) == _norm(lang)))
                kind_of.append(kind)
                lang_of.append(lang)
    identifier.features = None
    return np.array(features), np.array(right), kind_of, lang_of


Params = tuple[float, float, float, float, float]


def _design(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The regression's columns from (logit raw, ln letters, CLD2's share): the fastText /
    lingua part (1 - share) * (logit raw, ln letters, 1), and CLD2's share * (ln letters, 1)."""
    rest = 1 - x[:, 2]
    return np.column_stack([rest * x[:, 0], rest * x[:, 1], rest, x[:, 2] * x[:, 1], x[:, 2]])


def fit(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> Params:
    """Logistic regression of ``y`` on :func:`_design` of ``x`` (Newton's method): the
    parameters (a, b, c, d, e) of logic.calibrated."""
    design = _design(x)
    w = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(design @ w)))
        gradient = design.T @ (y - p)
        hessian = (design * (p * (1 - p))[:, None]).T @ design
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(w)), gradient)
        w += step
        if np.abs(step).max() < 1e-10:
            break
    a, b, c, d, e = (float(v) for v in w)
    return a, b, c, d, e


def _logit(x: npt.NDArray[np.float64], params: Params) -> npt.NDArray[np.float64]:
    return np.asarray(_design(x) @ np.array(params))


def ece(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], params: Params) -> float:
    """Expected calibration error of the calibrated confidence, answers of 0.5 and more (the
    others are und), in the eval's bins."""
    conf = 1 / (1 + np.exp(-_logit(x, params)))
    keep = conf >= 0.5
    conf, y = conf[keep], y[keep]
    edges = [0.5, 0.7, 0.8, 0.9, 0.95, 1.0001]
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (conf >= lo) & (conf < hi)
        if inside.any():
            total += inside.sum() * abs(conf[inside].mean() - y[inside].mean())
    return total / max(1, len(conf))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="../shared/eval")
    parser.add_argument("--articles", type=int, default=20, help="synthetic articles per language")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    identifier = LanguageIdentifier.from_settings(load_settings())
    identifier.min_confidence = 0.0
    identifier.min_letters = 1
    x, y, kinds, langs = _answers(identifier, args.data, args.articles, args.seed)
    params = fit(x, y)
    shown = ", ".join(f"{v:.3f}" for v in params)
    print(
        f"{len(y):,} answers ({(x[:, 2] > 0).mean():.1%} answered by CLD2); CALIBRATION = ({shown})"
    )
    kind_arr = np.array(kinds)
    for kind in dict.fromkeys(kinds):
        rows = kind_arr == kind
        print(f"  ECE {kind:<13} {ece(x[rows], y[rows], params):.4f}")
    print(f"  ECE all           {ece(x, y, params):.4f} (with the parameters in use: "
          f"{ece(x, y, CALIBRATION):.4f})")  # fmt: skip
    ordered = sorted(set(langs))
    lang_arr = np.array(langs)
    for half in (0, 1):
        train = np.isin(lang_arr, ordered[half::2])
        error = ece(x[~train], y[~train], fit(x[train], y[train]))
        print(f"  fitted on half the languages, ECE on the others: {error:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
