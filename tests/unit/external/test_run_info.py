"""What an audited run records about the model file it audits (run.json), for each kind of file the schema accepts:
issue 25, bug 3, a plain TensorFlow SavedModel (a tf.Module, not a Keras export) stopped run.json with an
AttributeError after its predictions and audits were made, and the run went missing from the report."""

import numpy as np
import pytest
import tensorflow as tf

from faceaudit.external.models import load_external_model
from faceaudit.external.run_info import audited_run_info

SPEC = {"run": "colleague__external", "experiment": "colleague", "model": "external"}


class PlainClassifier(tf.Module):
    """A two-class classifier written in TensorFlow alone: one dense layer over the mean of each image's pixels."""

    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable(np.full((3, 2), 0.5, dtype="float32"), name="kernel")
        self.bias = tf.Variable(np.zeros(2, dtype="float32"), name="bias")

    @tf.function(input_signature=[tf.TensorSpec([None, 12, 12, 3], tf.float32, name="pixels")])
    def serve(self, pixels):
        features = tf.reduce_mean(pixels, axis=[1, 2])
        return {"gender": tf.nn.softmax(features @ self.kernel + self.bias)}


@pytest.fixture(scope="module")
def plain_saved_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plain") / "classifier"
    module = PlainClassifier()
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})
    return folder


def test_a_plain_tensorflow_saved_model_is_described_by_its_variables(plain_saved_model):
    info = audited_run_info(SPEC, [plain_saved_model])

    assert info["parameters"] == 3 * 2 + 2
    assert info["architecture"] == ""
    assert info["files"][0]["path"] == str(plain_saved_model) and len(info["files"][0]["sha256"]) == 64


def test_the_plain_saved_model_predicts_as_its_own_function(plain_saved_model):
    batch = np.random.default_rng(1).uniform(0, 1, (4, 12, 12, 3)).astype("float32")
    model = load_external_model(plain_saved_model)

    (scores,) = model(batch)

    expected = tf.nn.softmax(batch.mean(axis=(1, 2)) @ np.full((3, 2), 0.5, dtype="float32")).numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


def test_a_keras_export_is_described_by_the_same_count_as_its_keras_file(tmp_path):
    import keras

    inputs = keras.Input((12, 12, 3))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs)))
    model.save(tmp_path / "model.keras")
    model.export(tmp_path / "exported", verbose=False)

    from_file = audited_run_info(SPEC, [tmp_path / "model.keras"])
    from_export = audited_run_info(SPEC, [tmp_path / "exported"])

    assert from_export["parameters"] == from_file["parameters"] == model.count_params() == 12 * 12 * 3 * 2 + 2
    assert "Dense" in from_file["architecture"] and from_export["architecture"] == ""
