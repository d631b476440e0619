"""What chance gives the subgroup search: the best MDSS score on eval sets where errors fall on no one in particular.

The errors are shuffled among the rows (their number kept, so the overall error rate stays), and the first scan is
run again on each shuffle; its best score is the null of the worst subgroup's. A reported subgroup's p-value is the
share of shuffles that score at least as high (counting the observed one), Holm-adjusted over the subgroups reported
for the target."""

from collections.abc import Callable

import numpy as np
import pandas as pd

from faceaudit.evaluation.multiplicity import ALPHA, adjust_p_values

__all__ = ["NULL_METHOD", "enough_to_stop", "null_95th_percentile", "null_scores", "with_p_values"]

NULL_METHOD = (
    "Chance is measured by permutation: the target's errors are shuffled among the eval set's rows (their number "
    "kept, so the overall error rate is the same), and the first scan is run again on each shuffle with the same "
    "depth and restarts; its best score is what the worst subgroup scores when errors fall on no one in particular. "
    "A subgroup's p-value is (1 + shuffles scoring at least as high) / (1 + shuffles), Holm-adjusted over the "
    "subgroups reported for the target; one with adjusted p below 0.05 is beyond chance. The shuffles stop early "
    "once enough of them reach the highest score reported that no p-value over all of them could fall below 0.05 "
    "(the p-value is then the share of the shuffles made, Besag and Clifford's sequential test). The subgroups below "
    "the first are held to the same null of the best score, which is stricter for them."
)


def null_scores(
    best_score: Callable[[pd.Series], float], errors: pd.Series, permutations: int, seed: int, observed: float
) -> list:
    """`best_score` of up to `permutations` shuffles of `errors` (0/1 per row), drawn from `seed`. The shuffles stop
    once `enough_to_stop` of them score at least `observed` (the highest score reported): whatever the remaining ones
    give, every subgroup's p-value over all of them would be at least 0.05, so the flags are those of all the
    shuffles, at a fraction of their time where there is nothing to find (Besag and Clifford's sequential test)."""
    generator = np.random.default_rng(seed)
    scores, reached = [], 0
    for _ in range(permutations):
        scores.append(best_score(pd.Series(generator.permutation(errors.to_numpy()), index=errors.index)))
        reached += scores[-1] >= observed
        if reached >= enough_to_stop(permutations):
            break
    return scores


def enough_to_stop(permutations: int) -> int:
    """The fewest shuffles scoring at least the observed score that settle the question: with h of them, the p-value
    over all `permutations` is at least (h + 1) / (permutations + 1), not below 0.05 (and Holm only raises it)."""
    return max(1, int(np.ceil(ALPHA * (permutations + 1))) - 1)


def p_value(at_least: int, shuffled: int, permutations: int) -> float:
    """(1 + shuffles scoring at least as high) / (1 + shuffles) after all of them; after a sequential stop, the share
    of the shuffles made that scored at least as high (Besag and Clifford), and never below the least that all of
    them could have given, (1 + at_least) / (1 + permutations), which is at least 0.05 then."""
    if shuffled < permutations:
        return max(at_least / shuffled, (1 + at_least) / (1 + permutations))
    return (1 + at_least) / (1 + shuffled)


def null_95th_percentile(null: list[float]) -> float | None:
    """The score that chance exceeds one time in twenty (None without a null)."""
    return float(np.quantile(null, 0.95)) if null else None


def with_p_values(subgroups: list[dict], null: list[float], permutations: int) -> list[dict]:
    """Each subgroup with its p-value against `null` (of up to `permutations` shuffles), Holm-adjusted over the
    list, and whether it is beyond chance (adjusted p below 0.05); all None without a null (no permutations)."""
    if not null:
        return [subgroup | {"p_value": None, "adjusted_p_value": None, "beyond_chance": None} for subgroup in subgroups]
    scores = np.asarray(null)
    raw = [p_value(int((scores >= subgroup["score"]).sum()), len(scores), permutations) for subgroup in subgroups]
    adjusted = adjust_p_values(raw, "holm").tolist()
    return [
        subgroup | {"p_value": p_value, "adjusted_p_value": adjusted_p, "beyond_chance": adjusted_p < ALPHA}
        for subgroup, p_value, adjusted_p in zip(subgroups, raw, adjusted)
    ]
