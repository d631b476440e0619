"""Issue 25, bug 1: a SavedModel whose serving function writes a file ran on the audit machine and the file
appeared. Each case builds the SavedModel for real; the audit refuses to load it, names the op, and nothing is written.
Models that only compute (a Keras export, a plain TensorFlow module) still load."""

import numpy as np
import pytest
import tensorflow as tf

from faceaudit.external.graph_check import UnsafeModelError, check_saved_model_graph
from faceaudit.external.models import load_external_model

KEY = "experiments.colleague.external.file"
SPEC = [tf.TensorSpec([None, 4, 4, 1], tf.float32, name="pixels")]


class Model(tf.Module):
    def __init__(self, side_effect):
        super().__init__()
        self.kernel = tf.Variable([[1.0, -1.0]])
        self.side_effect = side_effect

    @tf.function(input_signature=SPEC)
    def serve(self, pixels):
        self.side_effect(pixels)
        return {"gender": tf.nn.softmax(tf.reduce_mean(pixels, axis=[1, 2]) @ self.kernel)}


def saved(folder, side_effect):
    module = Model(side_effect)
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})
    return folder


def test_a_model_that_writes_a_file_is_refused_before_it_runs_and_writes_nothing(tmp_path):
    target = tmp_path / "outside" / "written.txt"
    target.parent.mkdir()
    model = saved(tmp_path / "writer", lambda pixels: tf.io.write_file(str(target), "written by the model"))
    assert not target.exists()  # tracing wrote nothing either

    with pytest.raises(UnsafeModelError, match=rf"{KEY}: the serving function of the SavedModel .* runs WriteFile"):
        load_external_model(model, KEY)
    assert not target.exists()


@pytest.mark.parametrize(
    ("name", "side_effect", "op"),
    [
        ("python", lambda pixels: tf.py_function(lambda: 0.0, [], tf.float32), "EagerPyFunc"),
        ("print", lambda pixels: tf.print("pixels", output_stream="file:///tmp/faceaudit-printed"), "PrintV2"),
        ("reader", lambda pixels: tf.io.read_file("/etc/hostname"), "ReadFile"),
        # The write sits in a branch of a conditional: the check follows the If's branch functions.
        (
            "branch",
            lambda pixels: tf.cond(
                tf.reduce_sum(pixels) > 0, lambda: tf.io.write_file("/tmp/faceaudit-branch", "x"), lambda: tf.no_op()
            ),
            "WriteFile",
        ),
    ],
)
def test_python_printing_reading_and_a_write_in_a_branch_are_refused_naming_the_op(tmp_path, name, side_effect, op):
    model = saved(tmp_path / name, side_effect)
    with pytest.raises(UnsafeModelError, match=rf"runs {op} \(an op with side effects, in "):
        check_saved_model_graph(model, KEY)


def test_a_model_that_only_computes_loads_and_predicts(tmp_path):
    model = saved(tmp_path / "plain", lambda pixels: None)
    check_saved_model_graph(model, KEY)
    (scores,) = load_external_model(model, KEY)(np.zeros((2, 4, 4, 1), "float32"))
    np.testing.assert_allclose(scores, 0.5)


def test_a_keras_export_passes_the_check(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 3))
    features = keras.layers.BatchNormalization()(keras.layers.Conv2D(4, 3, activation="relu")(inputs))
    features = keras.layers.Dropout(0.5)(keras.layers.GlobalAveragePooling2D()(features))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(features))
    model.export(tmp_path / "exported", verbose=False)

    check_saved_model_graph(tmp_path / "exported", KEY)
