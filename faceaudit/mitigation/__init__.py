"""Mitigation: post-processing a run's saved scores (no retraining) into the predictions of a derived run."""

from faceaudit.mitigation.postprocessing import (
    DECISION_TIME,
    PostProcessor,
    apply_post_processor,
    derived_run_info,
    fit_post_processor,
)

__all__ = ["DECISION_TIME", "PostProcessor", "apply_post_processor", "derived_run_info", "fit_post_processor"]
