"""Is a gap between a group and the rest distinguishable from zero? Two-sided z-tests whose variance is taken under
the null hypothesis, pooled over both sides: for rates the two-proportion z-test (its square is Pearson's chi-square
of the 2x2 table), for mean errors the same with the pooled variance.

Why not the bootstrap's standard error (the Wald test): it is estimated around each side's own rate, so a small group
whose rate came out extreme by chance (TPR 0.98 from 60 positives) also gets a small standard error, and a large z.
At the thresholds that matter after adjusting dozens of comparisons (about 0.001), a group of 60 at rate 0.85 is then
flagged 8 times too often, a group of 30 some 25 times; the pooled test stays within 1.3 and 1.7 times
(tests/unit/evaluation/test_significance.py measures it).
"""

import math

import numpy as np
from scipy.stats import norm


def z_test_p_value(difference: float, variance: float) -> float:
    """Two-sided p-value of a difference with this variance under the null; no variance at all: 1 (the difference
    is then 0)."""
    if variance <= 0:
        return 1.0 if difference == 0 else 0.0
    return float(2 * norm.sf(abs(difference) / math.sqrt(variance)))


def null_variance_of_rates(hits: tuple[int, int], sizes: tuple[int, int]) -> float:
    """Variance of hits[0]/sizes[0] - hits[1]/sizes[1] if both sides had the pooled rate."""
    pooled = sum(hits) / sum(sizes)
    return pooled * (1 - pooled) * (1 / sizes[0] + 1 / sizes[1])


def two_proportion_p_value(hits: tuple[int, int], sizes: tuple[int, int]) -> float | None:
    """p-value of "both sides have the same rate" (hits out of sizes per side); None with an empty side."""
    if min(sizes) < 1:
        return None
    difference = hits[0] / sizes[0] - hits[1] / sizes[1]
    return z_test_p_value(difference, null_variance_of_rates(hits, sizes))


def average_odds_p_value(true_positives, positives, false_positives, negatives) -> float | None:
    """p-value of "TPR and FPR are the same on both sides" for ((FPR_0 - FPR_1) + (TPR_0 - TPR_1)) / 2; each argument
    is a pair (side 0, side 1). TPR and FPR come from disjoint rows, so their variances add."""
    if min(*positives, *negatives) < 1:
        return None
    tpr_gap = true_positives[0] / positives[0] - true_positives[1] / positives[1]
    fpr_gap = false_positives[0] / negatives[0] - false_positives[1] / negatives[1]
    variance = (
        null_variance_of_rates(true_positives, positives) + null_variance_of_rates(false_positives, negatives)
    ) / 4
    return z_test_p_value((fpr_gap + tpr_gap) / 2, variance)


def mean_difference_p_value(values: np.ndarray, in_group: np.ndarray) -> float | None:
    """p-value of "the group's mean equals the rest's", with the variance of all values pooled."""
    sizes = int(in_group.sum()), int((~in_group).sum())
    if min(sizes) < 1 or len(values) < 3:
        return None
    difference = float(values[in_group].mean() - values[~in_group].mean())
    return z_test_p_value(difference, float(np.var(values, ddof=1)) * (1 / sizes[0] + 1 / sizes[1]))
