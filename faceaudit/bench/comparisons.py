"""The comparison step (configuration B minus A, faceaudit.evaluation.comparisons): its speed and its error rates on
drawn studies with a known answer. `python -m faceaudit.bench.comparisons [--rows 10000] [--studies 100]`.

Speed: one comparison of 5 seeds against 5 (10,000 rows, 1,000 resamples) beside the aggregation of the same 10
runs' seeds (the step it is built on), in this process. Error rates: how often a method that cannot help is flagged
anywhere (should be at most 5% of studies: the family's adjustment), and how often a known lift of the worst-served
group is called levelling up.

Runs are drawn, not trained: each baseline run gets row i right with probability sigmoid(1.7 + difficulty_i + its
own shift for the row's group - 0.8 if the row is in C); C is the group the baseline serves worst. A method acts in
one of two ways, as the real ones do: retrained (independent runs; the method adds a known logit per group), or
post-processed from each baseline run (paired runs; a known share of some groups' decisions is changed).
"""

import argparse
import time

import numpy as np
import pandas as pd

from faceaudit.evaluation.comparisons import compare_configurations
from faceaudit.evaluation.seeds import aggregate_seeds
from faceaudit.evaluation.settings import AuditSettings

SHARES = {"A": 0.5, "B": 0.3, "C": 0.2}
BINARY = {"label": ["no", "yes"]}


class DrawnEvalSet:
    """One eval set (rows shared by every run) and runs drawn on it."""

    def __init__(self, study: int, rows: int = 1500):
        self.rng = np.random.default_rng(study)
        self.group = self.rng.choice(list(SHARES), size=rows, p=list(SHARES.values()))
        self.truth = self.rng.random(rows) < 0.5
        self.difficulty = self.rng.normal(0, 1, rows)

    def trained(self, name: str, seeds: int, effect: dict[str, float] | None = None) -> dict[str, pd.DataFrame]:
        """Runs trained separately: per-seed group shifts (SD 0.3 logits) plus the method's effect per group."""
        effect = effect or {}
        runs = {}
        for seed in range(seeds):
            shift = {name: self.rng.normal(0, 0.3) + effect.get(name, 0.0) for name in SHARES}
            logit = 1.7 + self.difficulty + np.array([shift[name] for name in self.group]) - 0.8 * (self.group == "C")
            correct = self.rng.random(len(self.group)) < 1 / (1 + np.exp(-logit))
            runs[f"{name}__seed{seed}"] = self.table(np.where(correct, self.truth, ~self.truth))
        return runs

    def post_processed(self, runs: dict[str, pd.DataFrame], spoil: dict[str, float] = None, mend: dict = None) -> dict:
        """Each run's decisions changed: a share `spoil[group]` of the group's right decisions made wrong, a share
        `mend[group]` of its wrong ones made right (what group thresholds do to a model, in caricature)."""
        changed = {}
        for name, table in runs.items():
            right = (table["label_pred"] == table["label_true"]).to_numpy().copy()
            for group, share in (spoil or {}).items():
                right &= ~((self.group == group) & right & (self.rng.random(len(right)) < share))
            for group, share in (mend or {}).items():
                right |= (self.group == group) & ~right & (self.rng.random(len(right)) < share)
            changed[f"{name}__post"] = self.table(np.where(right, self.truth, ~self.truth))
        return changed

    def table(self, predicted: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "path": [f"{index}.jpg" for index in range(len(self.group))],
                "label_true": np.where(self.truth, "yes", "no"),
                "label_pred": np.where(predicted, "yes", "no"),
                "group": self.group,
            }
        )


def compared(configuration: dict, baseline: dict, resamples: int, paired: bool = False, seed: int = 0) -> dict:
    return compare_configurations(
        configuration,
        baseline,
        BINARY,
        ["group"],
        {"label": "yes"},
        privileged_groups={"group": "A"},
        settings=AuditSettings(resamples=resamples, seed=seed, min_group_size=30, min_positives=10),
        paired=paired,
    )


def speed(rows: int, resamples: int, seeds: int) -> None:
    drawn = DrawnEvalSet(0, rows=rows)
    configuration, baseline = drawn.trained("method", seeds, {"C": 0.5}), drawn.trained("baseline", seeds)
    settings = AuditSettings(resamples=resamples, min_group_size=30, min_positives=10)
    started = time.perf_counter()
    for runs in (configuration, baseline):
        aggregate_seeds(runs, BINARY, ["group"], {"label": "yes"}, privileged_groups={"group": "A"}, settings=settings)
    aggregation = time.perf_counter() - started
    started = time.perf_counter()
    compared(configuration, baseline, resamples)
    comparison = time.perf_counter() - started
    print(
        f"comparison of {seeds} seeds against {seeds} ({rows} rows, {resamples} resamples): {comparison:.2f} s; "
        f"aggregating both sides' seeds: {aggregation:.2f} s (ratio {comparison / aggregation:.2f})"
    )


def error_rates(studies: int, resamples: int) -> None:
    flagged = lifted = 0
    for study in range(studies):
        drawn = DrawnEvalSet(10_000 + study)
        same = compared(drawn.trained("method", 3), drawn.trained("baseline", 3), resamples, seed=study)
        flagged += bool(any_flag(same["targets"]))
        baseline = drawn.trained("baseline", 3)
        lift = compared(drawn.post_processed(baseline, mend={"C": 0.4}), baseline, resamples, paired=True, seed=study)
        lifted += lift["targets"]["label"]["verdicts"]["group"]["accuracy"]["verdict"] == "levelling up"
    print(f"{studies} drawn studies, 3 seeds a side, {resamples} resamples:")
    print(f"  a method that cannot help, flagged anywhere: {flagged / studies:.3f} of studies (at most 0.05 expected)")
    print(f"  a post-processor that lifts group C, called levelling up: {lifted / studies:.3f} of studies")


def any_flag(node) -> bool:
    if isinstance(node, dict):
        return bool(node.get("distinguishable_from_zero")) or any(any_flag(value) for value in node.values())
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--studies", type=int, default=100, help="drawn studies for the error rates (0: none)")
    arguments = parser.parse_args()
    speed(arguments.rows, arguments.resamples, arguments.seeds)
    if arguments.studies:
        error_rates(arguments.studies, 300)


if __name__ == "__main__":
    main()
