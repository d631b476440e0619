"""The one way faceaudit hands rows to aif360: a BinaryLabelDataset of a binary label (1 favourable), membership of
the privileged side (1 privileged) and, where a method needs them, scores. PRIVILEGED and UNPRIVILEGED are the group
definitions that go with it. Keras-free; aif360 is imported on first use (it takes seconds) and quietly."""

import functools

import numpy as np
import pandas as pd

from faceaudit.quiet_import import quiet_import

LABEL, PROTECTED, SCORE = "label", "privileged", "score"
PRIVILEGED, UNPRIVILEGED = [{PROTECTED: 1.0}], [{PROTECTED: 0.0}]


@functools.cache
def dataset_class():
    with quiet_import():
        from aif360.datasets import BinaryLabelDataset
    return BinaryLabelDataset


def binary_label_dataset(labels: np.ndarray, privileged: np.ndarray, scores: np.ndarray | None = None):
    """aif360's dataset of these rows: `labels` 1 where favourable, `privileged` 1 on the privileged side."""
    columns = {PROTECTED: np.asarray(privileged).astype(float), LABEL: np.asarray(labels).astype(float)}
    if scores is not None:
        columns[SCORE] = scores
    return dataset_class()(
        df=pd.DataFrame(columns),
        label_names=[LABEL],
        protected_attribute_names=[PROTECTED],
        scores_names=[SCORE] if scores is not None else [],
        favorable_label=1.0,
        unfavorable_label=0.0,
    )
