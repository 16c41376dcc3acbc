"""Calibration: the expected calibration error and the log loss on probabilities whose
answer is known, and the bounds that hold for any."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqlab_classify.metrics import calibration


def test_probabilities_that_mean_what_they_say_have_no_calibration_error():
    probs = np.array([[0.7, 0.3]] * 10)
    right_7_of_10 = calibration([0] * 7 + [1] * 3, probs)
    assert right_7_of_10["ece"] == pytest.approx(0)
    assert right_7_of_10["confidence"] == pytest.approx(0.7)
    assert right_7_of_10["log_loss"] == pytest.approx(-(7 * np.log(0.7) + 3 * np.log(0.3)) / 10)
    assert calibration([0] * 10, probs)["ece"] == pytest.approx(0.3)  # underconfident


def test_each_confidence_bin_is_scored_on_its_own():
    """Half the texts at 0.9 and all right, half at 0.6 and all wrong: the bins are off by 0.1
    and 0.6, so ECE 0.35, more than the overall gap of confidence 0.75 to accuracy 0.5."""
    probs = np.array([[0.9, 0.1]] * 5 + [[0.6, 0.4]] * 5)
    assert calibration([0] * 5 + [1] * 5, probs)["ece"] == pytest.approx((0.1 + 0.6) / 2)


@given(st.lists(st.tuples(st.lists(st.floats(0.01, 1), min_size=3, max_size=3),
                          st.integers(0, 2)), min_size=1, max_size=40))  # fmt: skip
def test_the_error_is_at_least_the_overall_gap_and_at_most_one(rows):
    probs = np.array([w for w, _ in rows])
    probs /= probs.sum(1, keepdims=True)
    true = [y for _, y in rows]
    got = calibration(true, probs)
    gap = abs(np.mean(probs.argmax(1) == np.array(true)) - probs.max(1).mean())
    assert gap - 1e-9 <= got["ece"] <= 1 + 1e-9
    assert got["log_loss"] >= 0
