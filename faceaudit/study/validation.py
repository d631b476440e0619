"""The config checked at the edge with messages a user can act on: config files read strictly (a YAML error with its
line and column, a repeated key refused), the schema's verdict in a few lines (key path, wrong value, what the key
is, an example), and no NaN or infinity anywhere."""

import json
import math
import textwrap
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError

MESSAGE_LIMIT = 1000  # characters of a schema message; a wrong value can be a whole block of the config


class ConfigError(WorkflowError, ValueError):
    """A config that cannot work; the message names the file or key and what would be right. A WorkflowError, as
    Snakemake's own config errors are."""


class StrictLoader(yaml.FullLoader):
    """The loader Snakemake reads YAML config files with (yte uses FullLoader), refusing a key repeated in a mapping."""

    def construct_mapping(self, node, deep=False):
        first_seen = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node)
            if key in first_seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key '{key}' appears twice in one mapping (first at {position(first_seen[key])}); YAML keeps only "
                    "the last, which would silently drop the first block: merge the two into one",
                    key_node.start_mark,
                )
            first_seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep)


def check_config_files(paths) -> None:
    """Read each existing config file strictly; a missing one is left to Snakemake, which names it."""
    for path in paths:
        if Path(path).is_file():
            read_config_file(path)


def read_config_file(path) -> dict:
    """The config file's contents (JSON or YAML, as Snakemake reads them); ConfigError naming the file, line and column
    of a syntax error or a repeated key."""
    shown = display_path(path)
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text, object_pairs_hook=refuse_repeated_json_keys)
    except RepeatedKeyError as error:
        raise ConfigError(f"{shown}: {error}") from None
    except ValueError:
        pass  # not JSON: YAML, as Snakemake then tries
    with open(path, encoding="utf-8") as stream:  # a stream, so that YAML's error marks name the file
        try:
            return yaml.load(stream, Loader=StrictLoader)
        except yaml.MarkedYAMLError as error:
            raise ConfigError(f"{shown}, {yaml_error_text(error)}") from None


def yaml_error_text(error) -> str:
    """line 5, column 1: expected ',' or '}', but got '<scalar>' (while parsing a flow mapping at line 4, column 13)"""
    text = f"{position(error.problem_mark)}: {error.problem}" if error.problem_mark else str(error.problem)
    if error.context:
        text += f" ({error.context}" + (f" at {position(error.context_mark)})" if error.context_mark else ")")
    return text


def position(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


class RepeatedKeyError(ValueError):
    pass


def refuse_repeated_json_keys(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise RepeatedKeyError(f"key {repeated[0]!r} appears twice in one object; JSON readers keep only the last")
    return dict(pairs)


def display_path(path) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def validate_config(config: dict, schema_path, config_files=()) -> None:
    """Fill the schema's defaults into `config` and check it (snakemake.utils.validate); refuse NaN and infinity.
    Raises ConfigError with the key path, the wrong value, the key's description and an example; `config_files` are
    named in the message. `schema_path` must be absolute (validate resolves a relative one against its caller)."""
    import jsonschema
    from snakemake.utils import validate

    try:
        validate(config, str(schema_path), set_default=True)
    except WorkflowError as error:
        if not isinstance(error.__context__, jsonschema.ValidationError):
            raise
        schema = yaml.safe_load(Path(schema_path).read_text())
        raise ConfigError(schema_error_message(error.__context__, schema, config_files)) from None
    check_finite_numbers(config, config_files)


def schema_error_message(error, schema: dict, config_files=()) -> str:
    """A few lines instead of the schema dump: where, what is wrong, what the key is, an example of the right form."""
    where = key_path(error.absolute_path) or "the top level"
    message = error.message if len(error.message) <= MESSAGE_LIMIT else error.message[:MESSAGE_LIMIT] + " ..."
    lines = [f"Config error{source(config_files)} at {where}: {message}"]
    description, example = nearest_help(schema, error.schema_path)
    if description:
        lines += textwrap.wrap(" ".join(description.split()), 116, initial_indent="  ", subsequent_indent="  ")
    if example:
        lines.append(f"  For example: {example}")
    return "\n".join(lines)


def nearest_help(schema: dict, schema_path) -> tuple[str | None, str | None]:
    """The innermost description and example on the failing keyword's path through the schema, the example written
    as the key it belongs to (`loss_weighting: {method: ...}`)."""
    found = {"name": None, "description": None, "example": None}

    def visit(node) -> None:
        if isinstance(node, dict):
            found["description"] = node.get("description", found["description"])
            if node.get("examples"):
                found["example"] = example_text(found["name"], node["examples"][0])

    node = schema
    for previous, part in zip([None, *schema_path], schema_path):
        if isinstance(node, dict) and "$ref" in node and part not in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]  # the path goes on inside the referenced schema
            visit(node)
        if part == "$ref" or not isinstance(node, (dict, list)):
            continue
        node = node[part]
        if previous == "properties":
            found["name"] = part
        elif part in ("propertyNames", "additionalProperties", "items"):
            found["name"] = None  # below here the schema describes a name or an entry, not the key itself
        visit(node)
    return found["description"], found["example"]


def source(config_files) -> str:
    return f" in {', '.join(display_path(path) for path in config_files)}" if config_files else ""


def key_path(parts) -> str:
    """experiments.gender_mlp.steps[1].learning_rate"""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def example_text(name, example) -> str:
    value = yaml.safe_dump(example, default_flow_style=True, sort_keys=False, width=1000).strip()
    value = value.removesuffix("\n...").removesuffix(" ...").strip()
    return f"{name}: {value}" if isinstance(name, str) else value


def check_finite_numbers(node, config_files=(), path=()) -> None:
    """No key takes NaN or infinity (YAML's .nan, .inf), and the schema's bounds let them through."""
    if isinstance(node, float) and not math.isfinite(node):
        raise ConfigError(
            f"Config error{source(config_files)} at {key_path(path)}: {node} is not a finite number; give a number "
            "such as 0.001"
        )
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        check_finite_numbers(child, config_files, (*path, key))
