"""The calibration fit: logistic regression recovers known parameters, and the error measure
tells a calibrated confidence from an overconfident one."""

from __future__ import annotations

import numpy as np

from newsflow.language.calibrate import ece, fit


def test_fit_recovers_the_parameters_that_made_the_data() -> None:
    rng = np.random.default_rng(5)
    x = np.column_stack([rng.normal(2.0, 2.0, 40_000), np.log(rng.integers(1, 61, 40_000))])
    truth = (0.8, 0.9, -2.5)
    p = 1 / (1 + np.exp(-(truth[0] * x[:, 0] + truth[1] * x[:, 1] + truth[2])))
    y = (rng.random(len(p)) < p).astype(float)
    a, b, c = fit(x, y)
    assert abs(a - truth[0]) < 0.05 and abs(b - truth[1]) < 0.1 and abs(c - truth[2]) < 0.3
    assert ece(x, y, (a, b, c)) < 0.01
    # Saying more than the data bears out is measured as such.
    assert ece(x, y, (a * 2, b, c + 2)) > 0.05
