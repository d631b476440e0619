"""The trade-off page: Pareto front, distances from parity, method labels, and a rendered section."""

import pytest

from faceaudit.report.render import render
from faceaudit.report.tradeoff import distance_from, mitigation_of, pareto_front, tradeoff_section, wilson


def test_the_pareto_front_keeps_only_points_nothing_beats_on_both_axes():
    points = [(0.90, 0.10), (0.85, 0.02), (0.80, 0.05), (0.90, 0.12), (0.95, 0.20)]
    assert pareto_front(points) == [True, True, False, False, True]


def test_distance_from_parity_and_its_interval():
    assert distance_from(1.0, 0.7, [0.6, 0.9], []) == {
        "value": pytest.approx(0.3),
        "ci": [pytest.approx(0.1), pytest.approx(0.4)],
        "seeds": [],
    }
    spanning = distance_from(0.0, -0.02, [-0.1, 0.05], [])
    assert spanning["ci"] == [0.0, pytest.approx(0.1)], "an interval that spans parity starts at 0"


def test_wilson_interval_matches_the_textbook_value():
    # 8 of 10: Wilson 95% interval [0.4902, 0.9433]
    assert wilson(0.8, 10) == [pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4)]


def test_each_run_is_labelled_by_how_it_tries_to_be_fair():
    assert mitigation_of({"training": {"loss_weighting": {"method": "none"}}}) == ("baseline", "baseline")
    assert mitigation_of({"training": {"loss_weighting": {"method": "group"}}})[0] == "loss weighting"
    assert mitigation_of({"training": {"mitigation": {"method": "group_dro"}}}) == (
        "in-training",
        "in-training: group_dro",
    )
    post = {"post_processing": {"method": "threshold_optimizer", "constraint": "equalized_odds"}}
    assert mitigation_of(post) == ("post-processing", "post-processing: threshold_optimizer, equalized_odds")


def run_result(accuracy: float, gap: float, eod: float) -> dict:
    audit = {
        "groups": {"A": {}, "B": {}},
        "accuracy_gap": gap,
        "accuracy_gap_ci": [gap / 2, gap * 2],
        "privileged": {"equal_opportunity_difference": eod, "disparate_impact": 1 + eod, "ci": {}},
    }
    return {
        "metrics": {"test": {"gender": {"kind": "binary", "accuracy": accuracy, "n": 200}}},
        "fairness": {"test": {"gender": {"group": audit, "skipped_attributes": {}}}},
    }


def test_the_section_puts_every_run_on_one_figure_per_gap_and_names_the_decision_time_needs():
    runs = {
        name: {"dataset": "faces", "eval_sets": ["test"], "targets": {"gender": ["Female", "Male"]}, **spec}
        for name, spec in {
            "plain": {"training": {"loss_weighting": {"method": "none"}}},
            "weighted": {"training": {"loss_weighting": {"method": "group"}}},
            "plain__post_eq_odds": {"post_processing": {"method": "eq_odds"}},
        }.items()
    }
    results = {
        "plain": run_result(0.9, 0.2, -0.15),
        "weighted": run_result(0.88, 0.1, -0.05),
        "plain__post_eq_odds": run_result(0.86, 0.12, -0.01),
    }
    section = tradeoff_section(runs, results, None, {})
    (comparison,) = section["sections"]
    assert [panel["gap"] for panel in comparison["panels"]][0] == "largest accuracy gap between groups"
    rows = {row["label"]: row for row in comparison["panels"][0]["rows"]}
    assert rows["plain"]["pareto"] and rows["weighted"]["pareto"] and not rows["plain__post_eq_odds"]["pareto"]
    page = render("tradeoff.html", {"tradeoff": section})
    assert page.count("<img") == 3 and "the group must be known at prediction time" in page


def summary(mean: float) -> dict:
    return {"mean": mean, "ci": [mean - 0.02, mean + 0.02], "per_seed": {"w__seed0": mean - 0.01, "w__seed1": mean}}


def test_a_run_trained_once_on_a_front_with_means_of_seeds_is_marked_as_one_run():
    """Issue 21: a single run's place includes its seed's luck; a mean of seeds' does not."""
    spec = {"dataset": "faces", "eval_sets": ["test"], "targets": {"gender": ["Female", "Male"]}}
    runs = {
        "plain": spec | {"training": {"loss_weighting": {"method": "none"}}},
        **{f"w__seed{seed}": spec | {"training": {"loss_weighting": {"method": "group"}}} for seed in range(2)},
    }
    results = {name: run_result(0.9, 0.2, -0.15) for name in runs}
    aggregate = {
        "gender": {
            "overall": {"accuracy": summary(0.86)},
            "attributes": {"group": {"accuracy_gap": summary(0.05), "privileged": {}}},
        }
    }
    seeds = {"aggregates": {"w": {"test": aggregate}}}
    section = tradeoff_section(runs, results, seeds, {"w": ["w__seed0", "w__seed1"]})

    rows = {row["label"]: row for row in section["sections"][0]["panels"][0]["rows"]}
    assert rows["plain"]["pareto"] == "yes (one run)" and rows["w"]["pareto"] == "yes (mean of seeds)"
    page = render("tradeoff.html", {"tradeoff": section})
    assert "yes (one run)" in page and "hollow" in page
