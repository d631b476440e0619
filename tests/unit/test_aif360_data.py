"""The one aif360 adapter: the rows it hands over are the rows given, with the privileged side and scores intact."""

import numpy as np

from faceaudit.aif360_data import PRIVILEGED, PROTECTED, UNPRIVILEGED, binary_label_dataset


def test_labels_privileged_side_and_scores_reach_aif360_row_by_row():
    labels, privileged = np.array([1, 0, 1, 0]), np.array([True, True, False, False])
    scores = np.array([0.9, 0.2, 0.7, 0.4])
    dataset = binary_label_dataset(labels, privileged, scores)
    assert dataset.labels.ravel().tolist() == [1.0, 0.0, 1.0, 0.0]
    assert dataset.protected_attribute_names == [PROTECTED]
    assert dataset.protected_attributes.ravel().tolist() == [1.0, 1.0, 0.0, 0.0]
    assert dataset.scores.ravel().tolist() == scores.tolist()
    assert (PRIVILEGED, UNPRIVILEGED) == ([{PROTECTED: 1.0}], [{PROTECTED: 0.0}])


def test_without_scores_the_scores_are_aif360s_own_copy_of_the_labels():
    dataset = binary_label_dataset(np.array([1, 0]), np.array([True, False]))
    assert dataset.scores.ravel().tolist() == [1.0, 0.0]
