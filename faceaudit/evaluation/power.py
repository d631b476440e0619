"""How large a gap between a group and the rest its test rows could detect: the minimum detectable difference."""

import math

from scipy.stats import norm

ALPHA = 0.05
POWER = 0.8


def minimum_detectable_difference(
    n_group: int, n_rest: int, pooled_rate: float, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """The smallest difference of two proportions that a two-sided two-proportion z-test at `alpha` finds with
    probability `power`, for samples of `n_group` and `n_rest` whose rates are both near `pooled_rate`.

    Sample-size formula of the two-sample parallel design for proportions (Chow, Shao & Wang, Sample Size
    Calculations in Clinical Research, 2nd ed., 2008, section 4.2), solved for the difference, with both variances
    taken at the pooled rate p:  (z_{1-alpha/2} + z_{power}) * sqrt(p (1 - p) (1/n_group + 1/n_rest)).
    None where it is undefined: an empty side, or a pooled rate of 0 or 1 (no variation to test against).
    """
    if n_group < 1 or n_rest < 1 or not 0 < pooled_rate < 1:
        return None
    z_sum = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return float(z_sum * math.sqrt(pooled_rate * (1 - pooled_rate) * (1 / n_group + 1 / n_rest)))
