"""What a user sees when the config is wrong: a few lines naming the file or key, the wrong value, what the key is and
an example (not the schema dump); a YAML error with its line and column; a repeated key refused instead of silently
dropping the first block; NaN, infinity and values far outside real use refused before anything runs."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import SCHEMA

from faceaudit.bench.without_slurm import environment_without_slurm
from faceaudit.study.validation import ConfigError, read_config_file, validate_config

REPOSITORY = Path(__file__).resolve().parents[3]

STUDY = """\
datasets:
  faces:
    layout: synthetic
    labels:
      gender: [Female, Male]
      age: ["0-19", "20-39", "40+"]
      group: [A, B]
experiments:
  gender_mlp:
    dataset: faces
    targets: [gender]
    model: mlp
"""


def config_error(text: str) -> str:
    with pytest.raises(ConfigError) as error:
        validate_config(yaml.safe_load(text), SCHEMA)
    return str(error.value)


def test_a_wrong_form_is_named_by_key_path_with_its_value_description_and_an_example():
    message = config_error(STUDY + "    loss_weighting: reweighing\n")

    assert message.splitlines() == [
        "Config error at experiments.gender_mlp.loss_weighting: 'reweighing' is not of type 'object'",
        "  Per-example loss weights computed on the train split.",
        "  For example: loss_weighting: {method: reweighing, attributes: [gender]}",
    ]


def test_a_shared_definition_gets_the_example_of_its_key_and_long_descriptions_are_wrapped():
    message = config_error(STUDY + "    resources: {gpus: 2}\n")

    lines = message.splitlines()
    assert lines[0] == (
        "Config error at experiments.gender_mlp.resources: "
        "Additional properties are not allowed ('gpus' was unexpected)"
    )
    assert lines[-1] == "  For example: resources: {gpu: 1, runtime: 120, mem_mb: 16000, threads: 4}"
    assert all(len(line) <= 120 for line in lines[1:])


def test_the_message_names_the_config_files_and_the_index_of_a_list_entry(tmp_path):
    text = STUDY.replace("model: mlp", "model: vgg16\n    strategy: two_step") + (
        "    steps: [{epochs: 1}, {learning_rate: 20}]\n"
    )
    config_file = tmp_path / "study.yaml"
    config_file.write_text(text)

    with pytest.raises(ConfigError) as error:
        validate_config(read_config_file(config_file), SCHEMA, [config_file])

    first_line = str(error.value).splitlines()[0]
    assert first_line == (
        f"Config error in {config_file} at experiments.gender_mlp.steps[1].learning_rate: "
        "20 is greater than or equal to the maximum of 10"
    )


@pytest.mark.parametrize(
    ("study", "key"),
    [
        (STUDY + "    learning_rate: .nan\n", "experiments.gender_mlp.learning_rate"),
        (STUDY + "    grid: {learning_rate: [0.01, .nan]}\n", "experiments.gender_mlp.grid.learning_rate[1]"),
        (STUDY + "    augmentation: {zoom: .nan}\n", "experiments.gender_mlp.augmentation.zoom"),
        (
            STUDY.replace(
                "layout: synthetic\n", "layout: synthetic\n    synthetic: {groups: [{name: A, share: .inf}]}\n"
            ),
            "datasets.faces.synthetic.groups[0].share",
        ),
    ],
)
def test_nan_and_infinity_are_refused_where_the_schemas_bounds_let_them_through(study, key):
    """NaN passes every bound (each comparison is false); infinity passes a minimum."""
    message = config_error(study)

    assert message.startswith(f"Config error at {key}: ")
    assert "is not a finite number" in message


def test_an_infinite_learning_rate_is_above_its_bound():
    assert config_error(STUDY + "    learning_rate: .inf\n").startswith(
        "Config error at experiments.gender_mlp.learning_rate: inf is greater than or equal to the maximum of 10"
    )


@pytest.mark.parametrize(
    ("setting", "key", "problem"),
    [
        ("    learning_rate: 10\n", "experiments.gender_mlp.learning_rate", "greater than or equal to the maximum"),
        ("    image: {size: 10000}\n", "experiments.gender_mlp.image.size", "greater than the maximum of 1024"),
        ("seed: -1\n", "seed", "less than the minimum of 0"),
        ("audit: {seed: -3}\n", "audit.seed", "less than the minimum of 0"),
        ("sequence_comparison: {seed: 4294967296}\n", "sequence_comparison.seed", "greater than the maximum"),
    ],
)
def test_values_far_outside_real_use_are_refused_naming_the_key(setting, key, problem):
    message = config_error(STUDY + setting)

    assert message.startswith(f"Config error at {key}: ") and problem in message


def test_the_largest_accepted_values_pass():
    config = yaml.safe_load(STUDY + "    learning_rate: 9.5\n    image: {size: 1024}\nseed: 4294967295\n")

    validate_config(config, SCHEMA)

    assert config["experiments"]["gender_mlp"]["image"] == {"size": 1024, "color": "gray"}


JSON_SCHEMA_KEYWORDS = {
    "$schema", "$ref", "$defs", "description", "examples", "type", "properties", "additionalProperties",
    "unevaluatedProperties", "required", "default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "enum", "const", "items", "minItems", "maxItems", "uniqueItems", "pattern", "propertyNames", "minProperties",
    "oneOf", "anyOf", "allOf", "if", "then", "not",
}  # fmt: skip


def schema_keys(node, path=()):
    """(path, key) of every key in a schema position (not names under properties/$defs, not values of default,
    examples, const and enum)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from schema_keys(item, (*path, index))
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        yield path, key
        if key in ("properties", "$defs"):
            for name, child in value.items():
                yield from schema_keys(child, (*path, key, name))
        elif key not in ("default", "examples", "const", "enum"):
            yield from schema_keys(value, (*path, key))


def test_every_schema_key_is_a_json_schema_keyword():
    """An unquoted comma in a flow mapping (`{type: x, description: a, b}`) cuts the description short and adds a
    key `b`; the schema would then describe the key wrongly, silently."""
    schema = yaml.safe_load(SCHEMA.read_text())

    unknown = [
        f"{'/'.join(map(str, path))}: {key!r}" for path, key in schema_keys(schema) if key not in JSON_SCHEMA_KEYWORDS
    ]

    assert unknown == []


def test_the_keyword_check_finds_a_description_cut_by_a_comma():
    schema = yaml.safe_load("properties:\n  seed: {type: integer, description: Seed; same seed, same files.}\n")

    assert [key for _, key in schema_keys(schema) if key not in JSON_SCHEMA_KEYWORDS] == ["same files."]


# Config files, read strictly: what Snakemake's own reading lets through or reports without a position.


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_repeated_key_is_refused_with_file_line_and_column(tmp_path):
    config_file = write(tmp_path / "study.yaml", STUDY + "experiments:\n  other: {dataset: faces, model: mlp}\n")

    with pytest.raises(ConfigError) as error:
        read_config_file(config_file)

    assert str(error.value).startswith(
        f"{config_file}, line 13, column 1: key 'experiments' appears twice in one mapping (first at line 8, column 1)"
    )


def test_a_yaml_syntax_error_has_its_line_and_column(tmp_path):
    config_file = write(tmp_path / "study.yaml", STUDY.replace("[Female, Male]", "[Female, Male"))

    with pytest.raises(ConfigError) as error:
        read_config_file(config_file)

    assert str(error.value) == (
        f"{config_file}, line 6, column 10: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at line 5, column 15)"
    )


def test_merge_keys_and_the_same_key_in_different_blocks_are_not_repeats(tmp_path):
    text = STUDY + "  age_mlp:\n    <<: {dataset: faces, model: mlp}\n    model: small_cnn\n    targets: [age]\n"
    config = read_config_file(write(tmp_path / "study.yaml", text))

    assert config["experiments"]["age_mlp"] == {"dataset": "faces", "model": "small_cnn", "targets": ["age"]}
    assert config["experiments"]["gender_mlp"]["model"] == "mlp"


def test_a_json_config_with_a_repeated_key_is_refused(tmp_path):
    config_file = write(tmp_path / "study.json", '{"seed": 1, "seed": 2}')

    with pytest.raises(ConfigError, match=r"key 'seed' appears twice in one object"):
        read_config_file(config_file)


def dry_run(workdir: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(REPOSITORY / "Snakefile"), "-d", str(workdir), "-n", "-q"]
    environment = environment_without_slurm()
    return subprocess.run([*command, *arguments], capture_output=True, text=True, timeout=300, env=environment)


def test_snakemake_refuses_a_configfile_with_a_repeated_key(tmp_path):
    config_file = write(tmp_path / "study.yaml", STUDY + "experiments:\n  other: {dataset: faces, model: mlp}\n")

    result = dry_run(tmp_path, "--configfile", str(config_file))

    assert result.returncode != 0
    # Named relative to the working directory, as the user gave it.
    assert "\nstudy.yaml, line 13, column 1: key 'experiments' appears twice" in result.stdout + result.stderr


def test_snakemake_gives_the_line_and_column_of_a_syntax_error_in_the_default_config(tmp_path):
    write(tmp_path / "config" / "config.yaml", STUDY.replace("[Female, Male]", "[Female, Male"))

    result = dry_run(tmp_path)

    assert result.returncode != 0
    assert "config/config.yaml, line 6, column 10: expected ',' or ']'" in result.stdout + result.stderr


def test_snakemake_prints_a_short_schema_message_instead_of_the_schema(tmp_path):
    config_file = write(tmp_path / "study.yaml", STUDY + "    loss_weighting: reweighing\n")

    result = dry_run(tmp_path, "--configfile", str(config_file))

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "Config error in study.yaml at experiments.gender_mlp.loss_weighting: 'reweighing' is not of type 'object'"
        in output
    )
    assert "For example: loss_weighting: {method: reweighing, attributes: [gender]}" in output
    assert "Failed validating" not in output and len(output.splitlines()) < 12


def test_snakemake_accepts_a_valid_configfile(tmp_path):
    config_file = write(tmp_path / "study.yaml", STUDY)

    result = dry_run(tmp_path, "--configfile", str(config_file))

    assert result.returncode == 0, result.stdout + result.stderr


def test_seeds_with_no_bootstrap_resamples_are_refused_before_anything_trains(tmp_path):
    """Issue 25 (weak): `bootstrap_resamples: 0` with seeds failed in aggregate_seeds after every seed had trained."""
    study = STUDY.replace("    model: mlp\n", "    model: mlp\n    repeats: 2\n") + "audit: {bootstrap_resamples: 0}\n"
    write(tmp_path / "config" / "config.yaml", study)

    result = dry_run(tmp_path)

    assert result.returncode != 0
    assert (
        "audit.bootstrap_resamples: 0, but the seeds of gender_mlp need the test rows' variance, from at least 2 "
        "bootstrap resamples" in result.stdout + result.stderr
    )
    assert not (tmp_path / "results").exists(), "refused while planning: nothing ran"
