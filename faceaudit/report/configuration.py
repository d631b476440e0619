"""The configuration as the user set it, and apart from it the defaults that the schema filled in.

The workflow validates the config with `set_default=True`, so the config its rules see holds every default. What the
user set is read back from the config files themselves (then `--config` on top, as Snakemake merges them): a value
the user wrote stays theirs even where it equals the default.
"""

from pathlib import Path

import yaml


class PlainDumper(yaml.SafeDumper):
    """Writes repeated values out in full instead of as YAML anchors (&id001), which readers do not expect."""

    def ignore_aliases(self, data):
        return True


def configured_by_user(config_files: list, overrides: dict) -> dict:
    """The config files merged in order (later keys win, nested blocks merged), then the command line's --config."""
    merged = {}
    for path in config_files:
        merge_into(merged, yaml.safe_load(Path(path).read_text()) or {})
    return merge_into(merged, overrides or {})


def merge_into(base: dict, update: dict) -> dict:
    """Snakemake's config merge: a block updates the block of the same name key by key, any other value replaces."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_into(base[key], value)
        else:
            base[key] = value
    return base


def filled_defaults(config, user, path: str = "") -> list[tuple[str, object]]:
    """(dotted key, value) of every value in `config` that `user` does not hold: the defaults filled in. Lists of
    blocks (e.g. `steps`, `groups`) are compared item by item, named `steps[0]`."""
    if isinstance(config, dict) and isinstance(user, dict):
        found = []
        for key, value in config.items():
            inner = f"{path}.{key}" if path else str(key)
            found += filled_defaults(value, user[key], inner) if key in user else [(inner, value)]
        return found
    if isinstance(config, list) and isinstance(user, list) and len(config) == len(user):
        return [
            found
            for index, (value, set_value) in enumerate(zip(config, user, strict=True))
            for found in filled_defaults(value, set_value, f"{path}[{index}]")
        ]
    return []


def as_yaml(value, flow: bool = False) -> str:
    """A config value as YAML: a block for the whole config, one line (flow style) for a single default."""
    text = yaml.dump(value, Dumper=PlainDumper, sort_keys=False, default_flow_style=flow, width=1000)
    return text.removesuffix("\n...\n").strip() if flow else text


def configuration_context(config: dict, user_config: dict | None) -> dict:
    """What the report shows: the config as set (the whole config where what was set is not known) and the
    defaults filled in, one line each."""
    if user_config is None:
        return {"set": as_yaml(config), "defaults": None}
    return {
        "set": as_yaml(user_config),
        "defaults": [
            {"key": key, "value": as_yaml(value, flow=True)} for key, value in filled_defaults(config, user_config)
        ],
    }
