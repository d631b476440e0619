"""One list per fact: faceaudit.catalog names the models, heads, strategies, layouts, grid keys and model families;
the config schema's enums (the file users read) and the code's registries must say the same."""

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import SCHEMA as SCHEMA_PATH

from faceaudit import catalog

REPOSITORY = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
DATASET = SCHEMA["properties"]["datasets"]["additionalProperties"]
EXPERIMENT = SCHEMA["properties"]["experiments"]["additionalProperties"]


def resolve(schema: dict) -> dict:
    """A local `#/$defs/...` reference, resolved (other schemas as they are)."""
    if "$ref" not in schema:
        return schema
    *_, name = schema["$ref"].split("/")
    return SCHEMA["$defs"][name]


def branch_properties(schema: dict, key: str) -> dict[str, dict]:
    """The `then` properties of each if/then branch of an object schema, by the values of `key` its `if` matches."""
    branches = {}
    for branch in schema["allOf"]:
        condition = resolve(branch["if"]["properties"][key])
        assert branch["if"]["required"] == [key]  # else a config without the key would match every branch
        values = tuple(condition["enum"]) if "enum" in condition else (condition["const"],)
        branches[values] = branch["then"]["properties"]
    return branches


def experiment_key(key: str) -> dict:
    """The schema of an experiment key, wherever it is defined (common properties or one family's branch)."""
    places = [EXPERIMENT["properties"], *branch_properties(EXPERIMENT, "model").values()]
    found = [properties[key] for properties in places if key in properties and "type" in properties[key]]
    assert len(found) == 1, f"experiment key '{key}' is defined {len(found)} times"
    return found[0]


def test_the_schemas_models_are_the_catalogs():
    assert set(EXPERIMENT["properties"]["model"]["enum"]) == set(catalog.EXPERIMENT_MODELS)
    assert len(EXPERIMENT["properties"]["model"]["enum"]) == len(catalog.EXPERIMENT_MODELS)


def test_each_model_familys_keys_apply_to_the_catalogs_models_of_that_family():
    families = {frozenset(models) for models in branch_properties(EXPERIMENT, "model")}
    audited = [(model,) for model in catalog.AUDITED_MODELS]  # one branch each: a model file, prediction files
    expected = (catalog.CLASSIFIERS, catalog.BACKBONES, catalog.GENERATIVE_MODELS, *audited)
    assert families == {frozenset(models) for models in expected}
    assert set(catalog.CLASSIFIERS) | set(catalog.GENERATIVE_MODELS) | set(catalog.AUDITED_MODELS) == set(
        catalog.EXPERIMENT_MODELS
    )


def test_the_schemas_layouts_and_their_settings_blocks_are_the_catalogs():
    assert tuple(DATASET["properties"]["layout"]["enum"]) == catalog.LAYOUTS
    branches = branch_properties(DATASET, "layout")
    assert [layout for (layout,) in branches] == list(catalog.LAYOUTS)
    for (layout,), properties in branches.items():
        assert properties[layout]["type"] == "object"  # the block named like its layout
        assert not set(properties) & (set(catalog.LAYOUTS) - {layout})


def test_the_schemas_heads_and_strategies_are_the_catalogs():
    assert tuple(experiment_key("head")["enum"]) == catalog.HEADS
    assert tuple(experiment_key("strategy")["enum"]) == catalog.STRATEGIES
    assert tuple(experiment_key("grid")["properties"]["strategy"]["items"]["enum"]) == catalog.STRATEGIES


def test_the_schemas_grid_keys_and_model_families_are_the_catalogs():
    assert tuple(experiment_key("grid")["properties"]) == catalog.GRID_KEYS
    assert tuple(SCHEMA["properties"]["training_resources"]["properties"]) == catalog.MODEL_FAMILIES
    assert tuple(catalog.FAMILY_RESOURCES) == catalog.MODEL_FAMILIES
    assert {catalog.model_family(model) for model in catalog.EXPERIMENT_MODELS} == set(catalog.MODEL_FAMILIES)


def test_the_catalogs_models_layouts_and_heads_are_the_codes():
    from faceaudit.data.adapters import ADAPTERS
    from faceaudit.models import builders, sequence, transfer

    assert set(builders.MODELS) == set(catalog.OWN_CLASSIFIERS)
    assert set(catalog.MIN_IMAGE_SIZE) <= set(catalog.OWN_CLASSIFIERS)
    assert set(transfer.BACKBONES) == set(catalog.BACKBONES)
    assert set(transfer.HEAD_BUILDERS) == set(catalog.HEADS)
    assert set(sequence.SEQUENCE_BUILDERS) == set(catalog.SEQUENCE_MODELS)
    assert set(ADAPTERS) == set(catalog.LAYOUTS)


def test_every_step_of_every_strategy_is_one_the_training_code_applies():
    import keras

    from faceaudit.training.strategies import apply_step, trainable_parameters

    inputs = keras.Input((4,))
    backbone = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(3)], name="backbone")
    model = keras.Model(inputs, keras.layers.Dense(2, name="output")(backbone(inputs)), name="tiny_transfer")
    parts = set(itertools.chain.from_iterable(catalog.STRATEGY_STEPS.values()))
    assert parts <= set(catalog.TRAINABLE_PARTS) | {"last_layers"}
    for part in sorted(parts):
        apply_step(model, part, unfreeze_last=1)
        assert trainable_parameters(model) > 0, part
    with pytest.raises(ValueError, match="unknown training step"):
        apply_step(model, "no_such_part")


def test_the_study_and_the_catalog_import_no_keras():
    code = (
        "import sys, faceaudit.catalog, faceaudit.study; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('keras', 'tensorflow', 'tf_keras')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPOSITORY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def post_processing_entry() -> dict:
    return experiment_key("post_processing")["items"]


def test_the_schemas_post_processing_methods_and_their_branches_are_the_catalogs():
    entry = post_processing_entry()
    methods = catalog.POST_PROCESSING_METHODS
    assert tuple(entry["properties"]["method"]["enum"]) == tuple(methods)
    branches = branch_properties(entry, "method")
    assert [method for (method,) in branches] == list(methods)
    for (method,), properties in branches.items():
        assert properties["constraint"]["enum"] == [None, *methods[method]["constraints"]], method
        assert set(properties) - {"constraint"} == set(methods[method]["options"]), method


def test_the_catalogs_post_processing_methods_are_the_codes():
    from faceaudit.postprocessing.methods import DECISION_TIME

    assert set(DECISION_TIME) == set(catalog.POST_PROCESSING_METHODS)


def test_the_schemas_in_training_methods_and_selection_monitors_are_the_catalogs_and_the_codes():
    from faceaudit.training.callbacks import SELECTION_MONITORS
    from faceaudit.training.mitigation import METHOD_MODELS

    mitigation = experiment_key("mitigation")["properties"]
    assert tuple(mitigation["method"]["enum"]) == catalog.MITIGATION_METHODS
    assert set(catalog.MITIGATION_STRENGTH) == set(catalog.MITIGATION_METHODS) - {"none"} == set(METHOD_MODELS)
    options = set(itertools.chain.from_iterable(catalog.MITIGATION_OPTIONS.values()))
    assert options <= set(mitigation)
    selection = experiment_key("model_selection")["properties"]
    assert tuple(selection["monitor"]["enum"]) == catalog.MODEL_SELECTION_MONITORS
    assert set(SELECTION_MONITORS) == set(catalog.MODEL_SELECTION_MONITORS) - {"none"}
