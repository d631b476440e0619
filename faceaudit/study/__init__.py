"""Stage 0: the study config checked and expanded into runs (Keras-free: the workflow imports it on every call)."""

from faceaudit.study.audited import audited_runs, eval_set_label_maps
from faceaudit.study.checks import check_resamples_for_intervals, check_study
from faceaudit.study.comparisons import study_comparisons
from faceaudit.study.derived import derived_runs
from faceaudit.study.runs import (
    classifier_runs,
    expand_runs,
    positive_classes,
    seed_configurations,
    vae_runs,
)

__all__ = [
    "audited_runs",
    "check_resamples_for_intervals",
    "check_study",
    "classifier_runs",
    "derived_runs",
    "eval_set_label_maps",
    "expand_runs",
    "positive_classes",
    "seed_configurations",
    "study_comparisons",
    "vae_runs",
]
