"""One AuditSettings value carries the config's `audit:` block to every audit function."""

import pytest
import yaml
from conftest import SCHEMA, TINY_STUDY, validated_study

from faceaudit.evaluation.settings import CONFIG_KEYS, AuditSettings


def test_every_setting_is_a_key_of_the_configs_audit_block_and_takes_its_default_from_the_schema():
    audit_keys = yaml.safe_load(SCHEMA.read_text())["properties"]["audit"]["properties"]
    assert set(CONFIG_KEYS.values()) <= set(audit_keys)
    config = validated_study({key: value for key, value in TINY_STUDY.items() if key != "audit"})
    settings = AuditSettings.from_config(config["audit"])
    assert settings == AuditSettings(
        resamples=audit_keys["bootstrap_resamples"]["default"],
        seed=audit_keys["seed"]["default"],
        min_group_size=audit_keys["min_group_size"]["default"],
        min_positives=audit_keys["min_positives"]["default"],
        multiple_comparisons=audit_keys["multiple_comparisons"]["default"],
        calibration_bins=audit_keys["calibration_bins"]["default"],
    )


def test_a_rule_that_passes_part_of_the_block_gets_the_defaults_for_the_rest():
    settings = AuditSettings.from_config({"bootstrap_resamples": 50, "seed": 3})
    assert (settings.resamples, settings.seed, settings.calibration_bins) == (50, 3, 10)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"multiple_comparisons": "bonferroni"}, "multiple_comparisons must be one of holm, bh, none"),
        ({"calibration_bins": 0}, "calibration needs at least one bin, got bins=0"),
    ],
)
def test_a_setting_no_audit_knows_is_refused(options, message):
    with pytest.raises(ValueError, match=message):
        AuditSettings(**options)
