"""GPU readiness, tested on CPU: op determinism as the experiment asks (a run using an op that TensorFlow cannot run
deterministically stops with one line naming the config key), XLA compilation when asked, and training that reads
only the preprocessed memory map, never a JPEG."""

import copy
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
import yaml
from conftest import SCHEMA
from tensorflow.python.framework.config import is_op_determinism_enabled
from training_helpers import TARGETS, run_spec, train

from faceaudit.bench.preprocess import write_face_jpegs
from faceaudit.data.arrays import read_split, write_split
from faceaudit.models import MODELS
from faceaudit.study import expand_runs
from faceaudit.study.validation import validate_config
from faceaudit.training.classifier import compile_for_step, train_run
from faceaudit.training.runtime import NondeterministicOpError

GENDER = {"gender": TARGETS["gender"]}


class Timestamped(keras.layers.Layer):
    """Adds 0 x the time: a real op that TensorFlow refuses under op determinism on every device, as it refuses
    segment sums, some resize gradients and cuDNN kernels on a GPU."""

    def call(self, inputs):
        return inputs + 0.0 * tf.cast(tf.timestamp(), inputs.dtype)


@pytest.fixture
def determinism_restored():
    yield
    tf.config.experimental.enable_op_determinism()  # process-wide: what the other tests' runs ask for


@pytest.fixture
def mlp_with_a_nondeterministic_op(monkeypatch, determinism_restored):
    """The registry's mlp with that op in front: a model as a user could register it."""
    build_mlp = MODELS["mlp"]

    def build(inputs, targets):
        return build_mlp(Timestamped()(inputs), targets)

    monkeypatch.setitem(MODELS, "mlp", build)


def test_an_op_without_a_deterministic_implementation_stops_the_run_naming_the_key(
    tmp_path, capsys, mlp_with_a_nondeterministic_op
):
    spec = run_spec("mlp", GENDER, epochs=1)

    with pytest.raises(NondeterministicOpError) as stopped:
        train(tmp_path, spec, "deterministic")

    message = str(stopped.value)
    assert message.startswith("mlp_test: TensorFlow cannot run an op of this run deterministically on this device")
    assert "(Timestamp cannot be called when determinism is enabled; node " in message
    assert message.endswith(
        "Set `experiments.mlp_test.deterministic: false` in the config to train without op determinism (results then "
        "differ slightly from run to run)."
    )
    assert stopped.value.__suppress_context__, "no chained TensorFlow stack trace"
    assert message in capsys.readouterr().err, "the line reaches the console"
    assert not (tmp_path / "deterministic/run.json").exists()

    spec["training"]["deterministic"] = False
    out, info = train(tmp_path, spec, "nondeterministic")

    assert not is_op_determinism_enabled()
    assert info["training"]["deterministic"] is False and (out / "model.keras").exists()


def test_xla_compiles_the_training_step_when_asked(tmp_path, determinism_restored):
    spec = run_spec("mlp", GENDER, epochs=2, jit_compile=True, deterministic=False)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, info = train(tmp_path, spec)

    assert not [str(warning.message) for warning in caught if "jit_compile" in str(warning.message)]
    history = pd.read_csv(out / "history.csv")
    assert np.isfinite(history["loss"]).all() and history["loss"].iloc[-1] < history["loss"].iloc[0]
    assert info["training"]["jit_compile"] is True
    model = keras.models.load_model(out / "model.keras")
    compile_for_step(model, spec, 0.01)
    assert model.jit_compile is True


def test_training_reads_the_memory_map_and_no_jpeg(tmp_path):
    faces = tmp_path / "faces"
    paths = write_face_jpegs(faces, 48, side=40)
    labels = pd.read_csv(faces / "labels.csv", dtype=str, keep_default_na=False)
    manifest = pd.DataFrame(
        {"path": labels["file"], "split": ["train"] * 32 + ["val"] * 16, "gender": labels["gender"]}
    )
    for split in ("train", "val"):
        write_split(manifest, faces, split, 16, "rgb", tmp_path / f"{split}.npy", tmp_path / f"{split}.csv", workers=1)
    for path in paths:
        path.unlink()  # any attempt to decode a JPEG now fails

    train_split, val_split = (
        read_split(tmp_path / f"{split}.npy", tmp_path / f"{split}.csv") for split in ("train", "val")
    )
    spec = run_spec("mlp", GENDER, epochs=1) | {"image_size": 16, "color": "rgb"}
    out = tmp_path / "run"
    out.mkdir()
    info = train_run(
        spec, train_split, val_split, out / "model.keras", out / "history.csv", out / "run.json", out / "checkpoint"
    )

    assert isinstance(train_split[0], np.memmap) and not list(faces.rglob("*.jpg"))
    assert info["epochs_completed"] == 1 and (out / "model.keras").exists()


MINIMAL_STUDY = """
datasets:
  faces:
    layout: synthetic
    labels: {gender: [Female, Male], group: [A, B]}
    sensitive_attributes: [group]
experiments:
  gender_mlp: {dataset: faces, targets: [gender], model: mlp}
"""


def planned_runs(**experiment) -> dict:
    config = yaml.safe_load(MINIMAL_STUDY)
    config["experiments"]["gender_mlp"] |= experiment
    validate_config(config, str(SCHEMA))
    return expand_runs(copy.deepcopy(config))


def test_determinism_is_on_and_xla_off_by_default_and_xla_with_determinism_is_refused_when_planning():
    assert {key: planned_runs()["gender_mlp"]["training"][key] for key in ("deterministic", "jit_compile")} == {
        "deterministic": True,
        "jit_compile": False,
    }
    with pytest.raises(ValueError, match=r"experiments\.gender_mlp\.jit_compile: XLA needs `deterministic: false`"):
        planned_runs(jit_compile=True)
    assert planned_runs(jit_compile=True, deterministic=False)["gender_mlp"]["training"]["jit_compile"] is True
