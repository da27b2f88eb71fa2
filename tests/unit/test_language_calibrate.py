"""The calibration fit: logistic regression recovers known parameters, and the error measure
tells a calibrated confidence from an overconfident one."""

from __future__ import annotations

import math

import numpy as np

from newsflow.language.calibrate import ece, fit
from newsflow.language.logic import calibrated


def test_fit_recovers_the_parameters_that_made_the_data() -> None:
    rng = np.random.default_rng(5)
    n = 40_000
    x = np.column_stack(
        [rng.normal(2.0, 2.0, n), np.log(rng.integers(1, 61, n)), rng.random(n) < 0.3]
    ).astype(float)
    truth = (0.8, 0.9, -2.5, 0.6, -0.5)
    z = np.array(
        [calibrated_logit(row, truth) for row in x]  # the service's own formula
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    fitted = fit(x, y)
    assert np.allclose(fitted, truth, atol=0.3)
    assert abs(fitted[0] - truth[0]) < 0.05
    assert ece(x, y, fitted) < 0.01
    # Saying more than the data bears out is measured as such.
    a, b, c, d, e = fitted
    assert ece(x, y, (a * 2, b, c + 2, d, e + 2)) > 0.05


def calibrated_logit(row: np.ndarray, params: tuple[float, ...]) -> float:
    """logic.calibrated's log-odds for one row of (logit raw, ln letters, CLD2's share)."""
    logit_raw, ln_letters, share = (float(v) for v in row)
    raw = 1 / (1 + math.exp(-logit_raw))
    letters = round(math.exp(ln_letters))
    p = calibrated(raw, letters, share, params)  # type: ignore[arg-type]
    return math.log(p / (1 - p))
