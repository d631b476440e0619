"""Speed and honesty of the audit: `python -m faceaudit.bench.audit [--coverage]`.

Speed: the fairness audit of one run (10,000 test rows, 1,000 resamples, every attribute and intersection) and the
aggregation of 5 seeds' predictions, timed in this process.

Coverage (--coverage): studies drawn with known truth (no bias: every group's expected accuracy is the same; each
seed's model shifts each group's logit by N(0, training_noise)); how often the 95% interval of group C's accuracy
gap against the rest covers zero, for the interval faceaudit reports (faceaudit.evaluation.seeds) and for a
percentile two-level bootstrap (seeds, then shared rows) drawn from the same resamples.
"""

import argparse
import time

import numpy as np
import pandas as pd

from faceaudit.evaluation.bootstrap import resample_counts, resampled_rate
from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.seeds import aggregate_seeds
from faceaudit.evaluation.settings import AuditSettings

SHARES = {"A": 0.45, "B": 0.35, "C": 0.20}
BINARY = {"label": ["no", "yes"]}


def drawn_seed_predictions(
    study: int, seeds: int = 5, rows: int = 1200, training_noise: float = 0.3, bias_against_c: float = 0.0
) -> dict[str, pd.DataFrame]:
    """Each seed's predictions of one test set: row i is right with probability sigmoid(1.7 + difficulty_i +
    the seed's shift for the row's group - bias if the row is in C); difficulty is shared by all seeds."""
    rng = np.random.default_rng(study)
    group = rng.choice(list(SHARES), size=rows, p=list(SHARES.values()))
    truth = rng.random(rows) < 0.5
    difficulty = rng.normal(0, 1, rows)
    band = rng.choice(["x", "y"], size=rows)
    tables = {}
    for seed in range(seeds):
        shift = {name: rng.normal(0, training_noise) for name in SHARES}
        logit = 1.7 + difficulty + np.array([shift[name] for name in group]) - bias_against_c * (group == "C")
        correct = rng.random(rows) < 1 / (1 + np.exp(-logit))
        predicted = np.where(correct, truth, ~truth)
        tables[f"exp__seed{seed}"] = pd.DataFrame(
            {
                "path": [f"{index}.jpg" for index in range(rows)],
                "label_true": np.where(truth, "yes", "no"),
                "label_pred": np.where(predicted, "yes", "no"),
                "group": group,
                "band": band,
            }
        )
    return tables


def audit_arguments() -> dict:
    return {
        "targets": BINARY,
        "sensitive_attributes": ["group", "band"],
        "positive_classes": {"label": "yes"},
        "intersections": [["group", "band"]],
        "privileged_groups": {"group": "A"},
    }


def audit_settings(resamples: int) -> AuditSettings:
    return AuditSettings(resamples=resamples, min_group_size=30, min_positives=10)


def speed(rows: int, resamples: int, seeds: int) -> None:
    tables = drawn_seed_predictions(0, seeds=seeds, rows=rows)
    # The first audit imports aif360.
    audit_fairness(next(iter(tables.values())).head(200), **audit_arguments(), settings=audit_settings(10))
    started = time.perf_counter()
    audit_fairness(next(iter(tables.values())), **audit_arguments(), settings=audit_settings(resamples))
    audit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    aggregate_seeds(tables, **audit_arguments(), settings=audit_settings(resamples))
    aggregate_seeds_seconds = time.perf_counter() - started
    print(f"audit of one run ({rows} rows, {resamples} resamples, 3 attributes): {audit_seconds:.1f} s")
    print(f"aggregation of {seeds} seeds ({rows} rows each, {resamples} resamples): {aggregate_seeds_seconds:.1f} s")


def percentile_two_level_covers(tables: dict, resamples: int, seed: int) -> bool:
    """The rejected interval: seeds drawn with replacement, then one row resample shared by the seeds drawn."""
    rng = np.random.default_rng(seed)
    first = next(iter(tables.values()))
    in_c = (first["group"] == "C").to_numpy()
    counts = resample_counts(len(first), resamples, seed)
    per_seed = np.stack(
        [
            resampled_rate(counts, correct, in_c) - resampled_rate(counts, correct, ~in_c)
            for correct in ((table["label_true"] == table["label_pred"]).to_numpy() for table in tables.values())
        ]
    )
    drawn = rng.integers(len(tables), size=(resamples, len(tables)))
    replicates = per_seed[drawn, np.arange(resamples)[:, None]].mean(axis=1)
    low, high = np.percentile(replicates, [2.5, 97.5])
    return bool(low <= 0 <= high)


def coverage(studies: int, resamples: int) -> None:
    print(f"95% intervals of group C's accuracy gap against the rest covering the truth (0), {studies} studies each:")
    print("seeds  training noise  faceaudit (Welch t)  percentile two-level bootstrap")
    for seeds in (3, 5):
        for noise in (0.0, 0.3, 0.6):
            ours = theirs = 0
            for study in range(studies):
                tables = drawn_seed_predictions(1000 + study, seeds=seeds, training_noise=noise)
                gap = aggregate_seeds(
                    tables, BINARY, ["group"], {"label": "yes"}, settings=AuditSettings(resamples=resamples, seed=study)
                )
                low, high = gap["label"]["attributes"]["group"]["accuracy_vs_rest"]["C"]["ci"]
                ours += low <= 0 <= high
                theirs += percentile_two_level_covers(tables, resamples, study)
            print(f"{seeds:5d}  {noise:14.1f}  {ours / studies:19.3f}  {theirs / studies:30.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--coverage", action="store_true", help="also measure the intervals' coverage")
    parser.add_argument("--studies", type=int, default=200, help="studies per coverage setting")
    arguments = parser.parse_args()
    speed(arguments.rows, arguments.resamples, arguments.seeds)
    if arguments.coverage:
        coverage(arguments.studies, 300)


if __name__ == "__main__":
    main()
