"""Tests of faceaudit.evaluation.power: the smallest gap a two-proportion z-test can find, against hand-computed
values and against the power it promises, measured by simulation."""

import numpy as np
import pytest

from faceaudit.evaluation.power import minimum_detectable_difference

# Normal quantiles as printed in statistical tables: z_{0.975} and z_{0.80}.
Z_975, Z_80 = 1.959964, 0.841621


def test_equal_groups_of_100_at_rate_one_half_match_the_hand_computation():
    # (1.959964 + 0.841621) * sqrt(0.5 * 0.5 * (1/100 + 1/100)) = 2.801585 * 0.0707107 = 0.198102
    assert minimum_detectable_difference(100, 100, 0.5) == pytest.approx(0.198102, abs=1e-6)


def test_unequal_groups_use_both_sizes():
    expected = (Z_975 + Z_80) * np.sqrt(0.8 * 0.2 * (1 / 50 + 1 / 200))
    assert minimum_detectable_difference(50, 200, 0.8) == pytest.approx(expected, rel=1e-6)
    assert minimum_detectable_difference(200, 50, 0.8) == minimum_detectable_difference(50, 200, 0.8)


def test_textbook_sample_size_for_a_gap_of_ten_points():
    # The classic design: 0.5 against 0.6 needs about 389 per group at alpha 0.05 two-sided and power 0.8
    # (n = (z_a/2 + z_b)^2 * 2 p(1-p) / delta^2 at p = 0.55: 7.849 * 0.495 / 0.01 = 388.5).
    assert minimum_detectable_difference(389, 389, 0.55) == pytest.approx(0.1, abs=0.0005)


def test_a_group_of_12_can_only_detect_a_large_gap():
    assert minimum_detectable_difference(12, 1000, 0.85) > 0.28


def test_the_promised_power_is_what_a_simulated_z_test_achieves():
    n, pooled = 200, 0.7
    gap = minimum_detectable_difference(n, n, pooled)
    rng = np.random.default_rng(0)
    draws = 20000
    first = rng.binomial(n, pooled + gap / 2, size=draws) / n
    second = rng.binomial(n, pooled - gap / 2, size=draws) / n
    pooled_draw = (first + second) / 2
    z = (first - second) / np.sqrt(pooled_draw * (1 - pooled_draw) * 2 / n)
    power = np.mean(np.abs(z) > Z_975)
    assert 0.77 < power < 0.84, power


@pytest.mark.parametrize(("n_group", "n_rest", "rate"), [(0, 10, 0.5), (10, 0, 0.5), (10, 10, 0.0), (10, 10, 1.0)])
def test_undefined_without_rows_or_without_variation(n_group, n_rest, rate):
    assert minimum_detectable_difference(n_group, n_rest, rate) is None
