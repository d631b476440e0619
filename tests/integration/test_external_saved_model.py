"""Issue 25, bug 3, through the real workflow: a plain TensorFlow SavedModel (a tf.Module with a serving signature,
not a Keras export) is audited like any model file: its run.json, predictions, audit and run page are all written."""

import json

import pandas as pd
import tensorflow as tf
from conftest import TINY_STUDY, run_snakemake, write_config

GENDER = TINY_STUDY["datasets"]["faces"]["labels"]["gender"]


class PlainClassifier(tf.Module):
    """Two classes from the mean brightness of a 16x16 grey image: TensorFlow alone, no Keras."""

    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable([[4.0, -4.0]], name="kernel")
        self.bias = tf.Variable([-2.0, 2.0], name="bias")

    @tf.function(input_signature=[tf.TensorSpec([None, 16, 16, 1], tf.float32, name="pixels")])
    def serve(self, pixels):
        brightness = tf.reduce_mean(pixels, axis=[1, 2])
        return {"gender": tf.nn.softmax(brightness @ self.kernel + self.bias)}


def test_a_plain_tensorflow_saved_model_is_audited_and_reported(tmp_path):
    module = PlainClassifier()
    tf.saved_model.save(module, str(tmp_path / "models/plain"), signatures={"serving_default": module.serve})
    study = {
        "seed": 3,
        "audit": TINY_STUDY["audit"],
        "datasets": {"faces": TINY_STUDY["datasets"]["faces"]},
        "experiments": {
            "colleague": {
                "dataset": "faces",
                "targets": ["gender"],
                "model": "external",
                "image": {"size": 16, "color": "gray"},
                "external": {"file": "models/plain", "scaling": "unit"},
            }
        },
    }
    write_config(tmp_path, study)
    run_snakemake(tmp_path)

    run = tmp_path / "results/runs/colleague__external"
    info = json.loads((run / "run.json").read_text())
    assert info["parameters"] == 4 and info["files"][0]["path"] == "models/plain"
    predictions = pd.read_csv(run / "predictions/test.csv")
    assert set(predictions["gender_pred"]) <= set(GENDER) and len(predictions) > 0
    assert json.loads((run / "metrics/test.json").read_text())["gender"]["n"] == len(predictions)
    page = (tmp_path / "results/report/runs/colleague__external.html").read_text()
    assert "models/plain" in page and info["files"][0]["sha256"] in page
