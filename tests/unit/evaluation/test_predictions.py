"""Predictions over an eval set: an empty split (e.g. `split: {test: 0}` on a dataset whose splits come from files)
stops with a message naming the eval set and the split, not with Keras' UnboundLocalError."""

import numpy as np
import pandas as pd
import pytest
from face_images import draw_faces

from faceaudit.data.arrays import read_split, write_split
from faceaudit.evaluation.predictions import EmptyEvalSetError, predict_eval_set, require_examples
from faceaudit.models import build_model


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    """Real preprocessed splits of four drawn faces, all in train and val: the test split is written but empty."""
    folder = tmp_path_factory.mktemp("faces")
    paths = draw_faces(folder, count=4)
    manifest = pd.DataFrame(
        {
            "path": [path.relative_to(folder).as_posix() for path in paths],
            "split": ["train", "train", "val", "val"],
            "gender": ["Female", "Male", "Female", "Male"],
        }
    )
    out = folder / "16-gray"
    for split in ("train", "val", "test"):
        write_split(manifest, folder, split, 16, "gray", out / f"{split}.npy", out / f"{split}.csv")
    return out


def test_an_empty_eval_set_is_named_with_its_split(splits):
    images, rows = read_split(splits / "test.npy", splits / "test.csv")
    assert len(images) == len(rows) == 0

    with pytest.raises(EmptyEvalSetError) as error:
        require_examples(images, "test", splits / "test.csv")

    message = str(error.value)
    assert message.startswith(f"eval set 'test' has no examples: split 'test' ({splits / 'test.csv'}) is empty")
    assert "Remove 'test' from the experiment's eval_sets (the default is [test])" in message


def test_an_eval_set_with_examples_is_predicted(splits, tmp_path):
    images, rows = read_split(splits / "val.npy", splits / "val.csv")
    require_examples(images, "val", splits / "val.csv")
    model = build_model("mlp", images.shape[1:], {"gender": 2})
    model.save(tmp_path / "model.keras")

    predictions = predict_eval_set(tmp_path / "model.keras", images, rows, {"gender": ["Female", "Male"]}, [])

    assert list(predictions["gender_true"]) == ["Female", "Male"]
    assert set(predictions["gender_pred"]) <= {"Female", "Male"}
    np.testing.assert_allclose(predictions[["gender_score_0", "gender_score_1"]].sum(axis=1), 1.0, rtol=1e-5)
