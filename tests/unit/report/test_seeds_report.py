"""The report's view across training seeds, from real aggregates of drawn predictions."""

import html
import json

from faceaudit.bench.audit import drawn_seed_predictions
from faceaudit.evaluation.seeds import METHOD as MEAN_AND_WELCH_T
from faceaudit.evaluation.seeds import aggregate_seeds
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.report.render import render
from faceaudit.report.seeds import INTERVAL_METHODS, seeds_section

RUNS = {f"exp__seed{seed}": {"experiment": "exp", "eval_sets": ["test"]} for seed in range(3)}
CONFIGURATIONS = {"exp": list(RUNS)}


def section_of(tmp_path, bias_against_c: float, small_group: bool = False) -> dict:
    tables = drawn_seed_predictions(7, seeds=3, rows=900, bias_against_c=bias_against_c, training_noise=0.1)
    if small_group:
        for table in tables.values():
            table.loc[:9, "group"] = "<D>"
    aggregate = aggregate_seeds(
        tables,
        {"label": ["no", "yes"]},
        ["group"],
        {"label": "yes"},
        settings=AuditSettings(resamples=200, min_group_size=30),
    )
    path = tmp_path / "test.json"
    path.write_text(json.dumps(aggregate))
    return seeds_section({"exp": {"test": path}}, CONFIGURATIONS, RUNS), aggregate


def test_each_seed_its_mean_and_interval_are_shown_and_the_flagged_gap_is_marked(tmp_path):
    section, aggregate = section_of(tmp_path, bias_against_c=2.0)
    gap = aggregate["label"]["attributes"]["group"]["accuracy_vs_rest"]["C"]
    assert gap["distinguishable_from_zero"] and gap["mean"] < 0
    page = render("seeds.html", {"seeds": section})
    for run in RUNS:
        assert f"{gap['per_seed'][run]:.4f}" in page
    assert f"[{gap['ci'][0]:.3f}, {gap['ci'][1]:.3f}]" in page
    assert page.count('class="flagged"') == len(
        [row for row in section["configurations"][0]["sections"][0]["gaps"] if row["flagged"]]
    )
    assert "exp (3 seeds)" in page and page.count("<img") >= 1


def test_the_model_card_of_each_seed_speaks_of_the_variance_across_seeds(tmp_path):
    section, aggregate = section_of(tmp_path, bias_against_c=0.0)
    lines = section["card_lines"]["exp__seed1"]
    accuracy = aggregate["label"]["overall"]["accuracy"]
    assert "one of 3 training seeds of exp (the others: exp__seed0, exp__seed2)" in lines[0]
    assert f"mean {accuracy['mean']:.4f}, SD {accuracy['sd']:.4f}" in lines[1]
    family = aggregate["label"]["multiple_comparisons"]["family_size"]
    assert lines[2].endswith(
        f"no gap is distinguishable from zero across the seeds after holm adjustment (family of {family} comparisons)."
    )


def test_a_small_group_is_greyed_with_its_reason_and_its_name_escaped(tmp_path):
    section, _ = section_of(tmp_path, bias_against_c=0.0, small_group=True)
    page = render("seeds.html", {"seeds": section})
    assert "<D>" not in page and html.escape("<D>") in page
    assert 'class="insufficient"' in page and "10 rows, fewer than min_group_size 30" in page


def test_the_page_describes_the_interval_method_its_aggregate_file_records(tmp_path):
    """Issue 21, item 3: the text said "two-level bootstrap" while the file's intervals were mean ± Welch t × SE."""
    section, aggregate = section_of(tmp_path, bias_against_c=0.0)
    page = render("seeds.html", {"seeds": section})
    assert aggregate["method"] == MEAN_AND_WELCH_T
    assert "mean ± t × standard error" in page and "Welch-Satterthwaite" in page
    assert "bootstrap (seeds drawn" not in page and "floor" not in page

    aggregate["method"] = "a method of another version"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(aggregate))
    other = render("seeds.html", {"seeds": seeds_section({"exp": {"test": path}}, CONFIGURATIONS, RUNS)})
    assert "as the result file records its method: &#39;a method of another version&#39;" in other
    assert "Welch" not in other


def test_every_interval_method_the_page_can_describe_is_one_the_audit_records():
    assert set(INTERVAL_METHODS) == {MEAN_AND_WELCH_T}
