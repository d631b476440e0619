"""Tests of faceaudit.evaluation.significance: the pooled z-tests against hand-computed values and Pearson's
chi-square, and their error rate at the thresholds Holm uses, measured against the Wald test they replace."""

import numpy as np
import pytest
from scipy.stats import chi2_contingency, norm

from faceaudit.evaluation.significance import (
    average_odds_p_value,
    mean_difference_p_value,
    two_proportion_p_value,
    z_test_p_value,
)


def test_two_proportions_by_hand():
    # 45 of 50 against 35 of 50: pooled 0.8, variance 0.8 * 0.2 * (1/50 + 1/50) = 0.0064, z = 0.2 / 0.08 = 2.5.
    assert two_proportion_p_value((45, 35), (50, 50)) == pytest.approx(0.0124193, abs=1e-6)


@pytest.mark.parametrize(("hits", "sizes"), [((45, 35), (50, 50)), ((7, 300), (12, 988)), ((0, 40), (30, 90))])
def test_two_proportions_equal_pearsons_chi_square_of_the_2x2_table(hits, sizes):
    table = [[hits[0], sizes[0] - hits[0]], [hits[1], sizes[1] - hits[1]]]
    _, p_value, _, _ = chi2_contingency(table, correction=False)
    assert two_proportion_p_value(hits, sizes) == pytest.approx(p_value, rel=1e-9)


def test_average_odds_by_hand():
    # TPR 40/50 against 30/50 (pooled 0.7), FPR 10/50 against 20/50 (pooled 0.3): average odds difference
    # ((0.2 - 0.4) + (0.8 - 0.6)) / 2 = 0, whatever the variance.
    assert average_odds_p_value((40, 30), (50, 50), (10, 20), (50, 50)) == pytest.approx(1.0)
    # TPR 45/50 against 35/50: gap 0.2, variance 0.0064; FPR 10/50 against 5/50: gap 0.1, pooled 0.15, variance
    # 0.15 * 0.85 * 0.04 = 0.0051. AOD (0.1 + 0.2) / 2 = 0.15, variance (0.0064 + 0.0051) / 4.
    expected = 2 * norm.sf(0.15 / np.sqrt((0.0064 + 0.0051) / 4))
    assert average_odds_p_value((45, 35), (50, 50), (10, 5), (50, 50)) == pytest.approx(expected)


def test_mean_difference_with_the_pooled_variance():
    values = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 12.0])
    in_group = np.array([True, True, True, False, False, False])
    variance = np.var(values, ddof=1) * (1 / 3 + 1 / 3)
    expected = 2 * norm.sf(abs(2.0 - 26 / 3) / np.sqrt(variance))
    assert mean_difference_p_value(values, in_group) == pytest.approx(expected)


def test_undefined_and_degenerate_cases():
    assert two_proportion_p_value((3, 0), (5, 0)) is None
    assert two_proportion_p_value((30, 40), (30, 40)) == 1.0, "everyone right on both sides"
    assert average_odds_p_value((1, 1), (2, 0), (0, 0), (2, 2)) is None
    assert z_test_p_value(0.0, 0.0) == 1.0


def rejection_rate(size_group: int, size_rest: int, rate: float, alpha: float, pooled: bool) -> float:
    """How often the test rejects at `alpha` when both sides truly have `rate` (drawn, 400,000 times)."""
    rng = np.random.default_rng(0)
    group = rng.binomial(size_group, rate, 400_000) / size_group
    rest = rng.binomial(size_rest, rate, 400_000) / size_rest
    if pooled:
        mixed = (group * size_group + rest * size_rest) / (size_group + size_rest)
        variance = mixed * (1 - mixed) * (1 / size_group + 1 / size_rest)
    else:  # Wald: each side's variance at its own rate, as the bootstrap's standard error estimates it
        variance = group * (1 - group) / size_group + rest * (1 - rest) / size_rest
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, np.abs(group - rest) / np.sqrt(variance), np.where(group == rest, 0, np.inf))
    return float(np.mean(z > norm.isf(alpha / 2)))


def test_the_pooled_test_keeps_its_level_where_holm_looks_and_the_wald_test_does_not():
    # 60 actual positives in a group, 540 in the rest, TPR 0.85 on both sides; Holm's threshold for the smallest of
    # 50 p-values is 0.001.
    alpha = 0.001
    pooled = rejection_rate(60, 540, 0.85, alpha, pooled=True)
    wald = rejection_rate(60, 540, 0.85, alpha, pooled=False)
    assert pooled < 2 * alpha, pooled
    assert wald > 4 * alpha, wald
