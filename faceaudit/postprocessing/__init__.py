"""Post-processing: a run's saved scores adjusted (no retraining) into the predictions of a derived run. The other
kind of mitigation, in training, is faceaudit.training.mitigation."""

from faceaudit.postprocessing.methods import (
    DECISION_TIME,
    PostProcessor,
    apply_post_processor,
    derived_run_info,
    fit_post_processor,
)

__all__ = ["DECISION_TIME", "PostProcessor", "apply_post_processor", "derived_run_info", "fit_post_processor"]
