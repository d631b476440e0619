"""The table of run kinds: every run of every study the project ships is of exactly one kind, and the workflow's
rules are the ones the table names."""

import re
from pathlib import Path

import pytest
from conftest import validated_study

from faceaudit.study import audited_runs, derived_runs, expand_runs, kinds

REPO = Path(__file__).resolve().parents[3]
STUDIES = sorted(REPO.glob("config/*.yaml")) + [REPO / "tests/tiny_study.yaml"]


def study_runs(config: dict) -> dict[str, tuple[str, dict]]:
    """{run name: (its folder under results/, its spec)} of every run the workflow builds for a study."""
    trained = expand_runs(config)
    classifiers = {name: run for name, run in trained.items() if run["model"] != "vae"}
    runs = {name: ("runs", run) for name, run in classifiers.items()}
    runs |= {name: ("vae", run) for name, run in trained.items() if run["model"] == "vae"}
    runs |= {name: ("runs", run) for name, run in derived_runs(config, classifiers).items()}
    return runs | {name: ("runs", run) for name, run in audited_runs(config).items()}


def matches(kind: kinds.RunKind, name: str) -> bool:
    return re.fullmatch(kinds.name_pattern(kind), name) is not None


@pytest.mark.parametrize("path", STUDIES, ids=lambda path: path.name)
def test_every_run_of_every_shipped_study_matches_exactly_one_kind(path):
    config = validated_study(path.read_text())
    runs = study_runs(config)
    assert runs, path
    for name, (folder, spec) in runs.items():
        by_name = [
            kind for kind in kinds.KINDS if kind.folder == folder and re.fullmatch(kinds.name_pattern(kind), name)
        ]
        assert by_name == [kinds.kind_of_run(spec)], (path.name, name, [kind.name for kind in by_name])


def test_the_shipped_studies_hold_every_kind():
    """So that the test above checks every row of the table."""
    found = set()
    for path in STUDIES:
        found |= {kinds.kind_of_run(spec) for _, spec in study_runs(validated_study(path.read_text())).values()}
    assert found == set(kinds.KINDS)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("gender_cnn", kinds.TRAINED),
        ("gender_cnn__seed1__post_eq_odds", kinds.POST_PROCESSED),
        ("gender_cnn__external", kinds.EXTERNAL),
        ("gender_cnn__imported", kinds.IMPORTED),
        # A marker that does not end the name is part of a trained run's name (only `__post_` takes a name after it).
        ("gender_cnn__externals", kinds.TRAINED),
        ("gender_cnn__imported_b", kinds.TRAINED),
    ],
)
def test_a_name_shows_its_kind(name, kind):
    assert [candidate for candidate in kinds.KINDS if candidate.folder == "runs" and matches(candidate, name)] == [kind]


def test_the_audited_kinds_are_the_audited_models_of_the_catalog():
    from faceaudit.catalog import AUDITED_MODELS

    assert tuple(kinds.AUDITED_KINDS) == AUDITED_MODELS


def rule_blocks() -> dict[str, str]:
    """{rule name: its text} of every rule in the workflow's rule files."""
    text = "\n".join(path.read_text() for path in sorted((REPO / "workflow/rules").glob("*.smk")))
    parts = re.split(r"^rule (\w+):\n", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_rules_the_table_names_exist_and_claim_only_their_kinds_runs():
    blocks = rule_blocks()
    for kind in kinds.KINDS:
        for rule in filter(None, (kind.run_info_rule, kind.predictions_rule)):
            assert rule in blocks, f"{kind.name}: no rule '{rule}' in workflow/rules"
            if kind.folder == "runs":
                constraint = re.search(r"run=run_names\(([^)]*)\)", blocks[rule])
                assert constraint, f"rule {rule} does not constrain `run` to its kinds' names"
                assert f'"{kind.name}"' in constraint.group(1), (rule, kind.name)
