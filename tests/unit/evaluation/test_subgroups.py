"""The subgroup search on real predictions files: with label noise injected into one intersection of the synthetic
faces it ranks that intersection first, beyond chance; without, its best score is small and within chance; numbers
and p-values recompute from the file. (Simulated studies of the null: test_subgroup_chance.py.)"""

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import SCHEMA

from faceaudit.data.synthetic import generate_synthetic_dataset
from faceaudit.evaluation.multiplicity import holm
from faceaudit.evaluation.subgroups import SearchSettings, find_subgroups, read_predictions
from faceaudit.labels import carried_labels
from faceaudit.study.validation import validate_config

REPOSITORY = Path(__file__).resolve().parents[3]
GENDERS = ["Female", "Male"]
AGES = ["young", "middle", "old"]
GROUPS = ["A", "B", "C"]
EVERY_GROUP_NOISY = [{"name": name, "share": 1, "label_noise": 0.1} for name in GROUPS]
FEMALE_C_NOISIER = [*EVERY_GROUP_NOISY[:2], {**EVERY_GROUP_NOISY[2], "label_noise_by_gender": {"Female": 0.4}}]
MULTITASK = {"gender": GENDERS, "age": AGES}
SCANNED = {"group": GROUPS, "gender": GENDERS, "age": AGES}
# Enough shuffles for 3 reported subgroups to reach adjusted p below 0.05 (3 / 61), and no more: each is a scan.
FEW_SHUFFLES = SearchSettings(permutations=60)


def synthetic_predictions(out_dir: Path, groups: list[dict]) -> Path:
    """What a model that learned the clean signal predicts, gender and age: the drawn labels. Its errors are then
    exactly the recorded labels that the generator's noise made wrong."""
    labels = generate_synthetic_dataset(
        out_dir,
        n_images=3000,
        image_size=8,
        seed=3,
        signal=0.9,
        groups=groups,
        gender_classes=GENDERS,
        age_classes=AGES,
    )
    predictions = pd.DataFrame(
        {
            "path": labels["file"],
            "gender_true": labels["gender"],
            "gender_pred": labels["drawn_gender"],
            "age_true": labels["age"],
            "age_pred": labels["drawn_age"],
            "group": labels["group"],
            "gender": labels["gender"],
        }
    )
    predictions.to_csv(out_dir / "predictions.csv", index=False)
    return out_dir / "predictions.csv"


@pytest.fixture(scope="module")
def biased(tmp_path_factory) -> tuple[pd.DataFrame, dict]:
    path = synthetic_predictions(tmp_path_factory.mktemp("biased"), FEMALE_C_NOISIER)
    return read_predictions(path), find_subgroups(read_predictions(path), MULTITASK, SCANNED, FEW_SHUFFLES)


@pytest.fixture(scope="module")
def unbiased(tmp_path_factory) -> dict:
    path = synthetic_predictions(tmp_path_factory.mktemp("unbiased"), EVERY_GROUP_NOISY)
    return find_subgroups(read_predictions(path), MULTITASK, SCANNED, FEW_SHUFFLES)


def test_noise_injected_into_female_c_ranks_that_intersection_first(biased):
    _, found = biased
    age = found["targets"]["age"]

    assert age["scanned_attributes"] == ["group", "gender"]
    top = age["subgroups"][0]
    assert top["definition"] == {"group": ["C"], "gender": ["Female"]}
    assert top["error_rate"] > 2 * top["expected_error_rate"]
    assert top["score"] > 20
    assert top["score"] > max(age["null_scores"]) and top["beyond_chance"]


def test_without_injected_bias_the_top_score_is_small_and_within_chance(biased, unbiased):
    biased_top = biased[1]["targets"]["age"]["subgroups"][0]["score"]
    unbiased_top = unbiased["targets"]["age"]["subgroups"][0]["score"]

    assert unbiased_top < 5
    assert unbiased_top < biased_top / 10
    for found in unbiased["targets"].values():
        assert found["subgroups"], "the search still ranks candidates"
        assert not any(subgroup["beyond_chance"] for subgroup in found["subgroups"])


def test_reported_figures_recompute_from_the_predictions_file(biased):
    predictions, found = biased
    wrong = predictions["age_pred"] != predictions["age_true"]
    age = found["targets"]["age"]
    assert age["size"] == len(predictions)
    assert age["errors"] == wrong.sum()
    assert age["error_rate"] == pytest.approx(wrong.mean())

    above = pd.Series(False, index=predictions.index)
    for subgroup in age["subgroups"]:
        matching = pd.Series(True, index=predictions.index)
        for name, values in subgroup["definition"].items():
            matching &= predictions[name].isin(values)
        assert subgroup["size"] == (matching & ~above).sum()
        assert subgroup["errors"] == (wrong & matching & ~above).sum()
        assert subgroup["error_rate"] == pytest.approx(wrong[matching & ~above].mean())
        assert subgroup["expected_error_rate"] == pytest.approx(wrong.mean())
        assert subgroup["rows_in_subgroups_above"] == (matching & above).sum()
        above |= matching
    # The file is plain JSON.
    assert json.loads(json.dumps(found)) == found


def test_p_values_recompute_from_the_null_scores_in_the_file(biased):
    _, found = biased
    assert found["null_method"].startswith("Chance is measured by permutation")
    assert found["settings"] == {"depth": 2, "reported": 3, "restarts": 5, "permutations": 60, "seed": 0}
    for target in ("age", "gender"):
        searched = found["targets"][target]
        null = searched["null_scores"]
        assert len(null) <= 60
        at_least = [sum(score >= subgroup["score"] for score in null) for subgroup in searched["subgroups"]]
        if len(null) == 60:
            raw = [(1 + count) / 61 for count in at_least]
        else:  # stopped early: no subgroup can be beyond chance
            raw = [max(count / len(null), (1 + count) / 61) for count in at_least]
            assert min(raw) >= 0.05
        assert [subgroup["p_value"] for subgroup in searched["subgroups"]] == pytest.approx(raw)
        adjusted = [subgroup["adjusted_p_value"] for subgroup in searched["subgroups"]]
        assert adjusted == pytest.approx(holm(raw).tolist())
        assert [subgroup["beyond_chance"] for subgroup in searched["subgroups"]] == [p < 0.05 for p in adjusted]


def test_the_shuffles_are_drawn_from_the_seed(tmp_path):
    table = cells_table(grid_cells({("Female", "C", "old"): 40}, size=30, wrong=3))
    settings = {"depth": 1, "reported": 1, "restarts": 1, "permutations": 20}

    first, again = (search(table, tmp_path, **settings, seed=7) for _ in range(2))
    other = search(table, tmp_path, **settings, seed=8)

    assert first == again
    assert first["null_scores"] != other["null_scores"]


def test_the_target_is_not_scanned_and_other_targets_true_labels_are(biased):
    _, found = biased

    assert found["targets"]["gender"]["scanned_attributes"] == ["group", "age"]
    # Gender noise flips recorded Female C to Male C, so the gender target's excess errors are group C's.
    assert found["targets"]["gender"]["subgroups"][0]["definition"] == {"group": ["C"]}


def cells_table(cells: list[tuple[str, str, str, int, int]]) -> pd.DataFrame:
    """Rows of a binary target `y` from (gender, group, age, rows, wrong predictions among them)."""
    rows = []
    for gender, group, age, size, wrong in cells:
        for index in range(size):
            rows.append({"y_true": "no", "y_pred": "yes" if index < wrong else "no", "gender": gender, "group": group})
            rows[-1]["age"] = age
    table = pd.DataFrame(rows)
    table.insert(0, "path", [f"images/{index}.jpg" for index in range(len(table))])
    return table


def grid_cells(wrong_in: dict[tuple[str, str, str], int], size: int = 100, wrong: int = 10) -> list:
    return [
        (gender, group, age, size, wrong_in.get((gender, group, age), wrong))
        for gender in GENDERS
        for group in GROUPS
        for age in AGES
    ]


def search(table: pd.DataFrame, tmp_path: Path, **settings) -> dict:
    """The search of target y; without shuffles unless `settings` asks for them (each costs a scan)."""
    table.to_csv(tmp_path / "predictions.csv", index=False)
    found = find_subgroups(
        read_predictions(tmp_path / "predictions.csv"),
        {"y": ["no", "yes"]},
        SCANNED,
        SearchSettings(**{"permutations": 0, **settings}),
    )
    return found["targets"]["y"]


def test_depth_bounds_how_many_labels_one_subgroup_combines(tmp_path):
    table = cells_table(grid_cells({("Female", "C", "old"): 60}))

    shallow = search(table, tmp_path, depth=2)
    deep = search(table, tmp_path, depth=3)

    assert all(len(subgroup["definition"]) <= 2 for subgroup in shallow["subgroups"])
    assert deep["subgroups"][0]["definition"] == {"gender": ["Female"], "group": ["C"], "age": ["old"]}
    assert deep["subgroups"][0]["error_rate"] == 0.6


def test_each_subgroup_is_searched_outside_the_ones_above_it(tmp_path):
    # Female C is much worse than the rest; Male C somewhat worse.
    wrong_in = {("Female", "C", age): 50 for age in AGES} | {("Male", "C", age): 25 for age in AGES}
    found = search(cells_table(grid_cells(wrong_in)), tmp_path, depth=2, reported=3)

    first, second = found["subgroups"][:2]
    assert first["definition"] == {"gender": ["Female"], "group": ["C"]}
    assert (first["size"], first["errors"], first["rows_in_subgroups_above"]) == (300, 150, 0)
    # The second holds no row of the first, whether its definition names Male C or group C.
    assert second["definition"] in ({"gender": ["Male"], "group": ["C"]}, {"group": ["C"]})
    assert (second["size"], second["errors"]) == (300, 75)
    assert second["score"] < first["score"]


def test_subgroups_reported_caps_the_list(tmp_path):
    wrong_in = {("Female", "C", "old"): 50, ("Male", "A", "young"): 50, ("Male", "B", "middle"): 50}
    found = search(cells_table(grid_cells(wrong_in)), tmp_path, depth=3, reported=2)

    assert len(found["subgroups"]) == 2
    assert found["stopped"] is None


def test_a_model_without_errors_has_no_subgroups_and_says_why(tmp_path):
    found = search(cells_table(grid_cells({}, wrong=0)), tmp_path, permutations=60)

    assert found["subgroups"] == []
    assert found["stopped"] == "the error rate is 0: no subgroup can exceed it"
    assert (found["null_scores"], found["null_95th_percentile"]) == ([], None), "nothing to hold against chance"


def test_uniform_errors_stop_the_search_with_the_reason(tmp_path):
    found = search(cells_table(grid_cells({})), tmp_path)

    assert found["subgroups"] == []
    assert found["stopped"] == "no further subgroup has more errors than the overall error rate predicts"


def test_a_numeric_label_is_scanned_in_quartile_bins_and_a_numeric_target_is_skipped(tmp_path):
    years = [str(year) for year in range(80)] * 5
    table = pd.DataFrame(
        {
            "path": [f"images/{index}.jpg" for index in range(len(years))],
            "gender_true": ["Female", "Male"] * (len(years) // 2),
            "age_years_true": years,
            "age_years_pred": [float(year) + 0.5 for year in years],
            "group": "A",
        }
    )
    # Every prediction for someone over 60 is wrong, one in ten below.
    old = table["age_years_true"].astype(int) > 60
    table["gender_pred"] = table["gender_true"].where(~old & (table.index % 10 != 0), "Unknown")
    table.to_csv(tmp_path / "predictions.csv", index=False)

    found = find_subgroups(
        read_predictions(tmp_path / "predictions.csv"),
        {"gender": GENDERS, "age_years": "numeric"},
        {"group": ["A", "B"], "gender": GENDERS, "age_years": "numeric"},
        SearchSettings(permutations=0),
    )

    gender = found["targets"]["gender"]
    assert gender["binned_attributes"] == {"age_years": ["[0, 19.75]", "(19.75, 39.5]", "(39.5, 59.25]", "(59.25, 79]"]}
    assert gender["subgroups"][0]["definition"] == {"age_years": ["(59.25, 79]"]}
    assert found["skipped_targets"] == {
        "age_years": "numeric target: the search looks for excess errors of a class target"
    }


def test_a_numeric_label_is_scanned_in_a_single_target_study(tmp_path):
    """Issue 21: on real faces the search missed young children, because age in years, neither the target nor a
    sensitive attribute, was not in the predictions file. The predictions file now carries the numeric labels."""
    labels = {"gender": GENDERS, "group": ["A", "B"], "age_years": "numeric"}
    targets = {"gender": GENDERS}
    carried = carried_labels(labels, ["group"], targets)
    assert carried == {"group": ["A", "B"], "age_years": "numeric"}

    rows = 400
    years = [index % 80 for index in range(rows)]
    table = pd.DataFrame(
        {
            "path": [f"images/{index}.jpg" for index in range(rows)],
            "gender_true": ["Female", "Male"] * (rows // 2),
            "group": ["A", "A", "B", "B"] * (rows // 4),
            "age_years": [str(year) for year in years],
        }
    )
    # Children under 10 are misread half of the time, everyone else about one time in twenty.
    wrong = [(year < 10 and index % 2 == 0) or index % 19 == 0 for index, year in enumerate(years)]
    table["gender_pred"] = table["gender_true"].where(~pd.Series(wrong), "Unknown")
    table.to_csv(tmp_path / "predictions.csv", index=False)

    settings = SearchSettings(reported=1, restarts=1, permutations=20)
    found = find_subgroups(read_predictions(tmp_path / "predictions.csv"), targets, {**carried, **targets}, settings)

    gender = found["targets"]["gender"]
    assert gender["scanned_attributes"] == ["group", "age_years"]
    assert gender["binned_attributes"] == {"age_years": ["[0, 19.75]", "(19.75, 39.5]", "(39.5, 59.25]", "(59.25, 79]"]}
    top = gender["subgroups"][0]
    assert top["definition"] == {"age_years": ["[0, 19.75]"]} and top["beyond_chance"]


def test_too_few_shuffles_for_any_finding_are_refused_with_the_number_needed():
    with pytest.raises(ValueError, match=r"subgroup_permutations: 59 .* 3 reported .* use at least 60, or 0"):
        SearchSettings(reported=3, permutations=59)
    assert SearchSettings(reported=3, permutations=60).permutations == 60
    assert SearchSettings(reported=3, permutations=0).permutations == 0


def test_a_missing_attribute_column_names_the_file_and_its_columns(tmp_path):
    table = cells_table(grid_cells({})).drop(columns="group")
    table.to_csv(tmp_path / "predictions.csv", index=False)

    with pytest.raises(ValueError) as raised:
        find_subgroups(
            read_predictions(tmp_path / "predictions.csv"),
            {"y": ["no", "yes"]},
            SCANNED,
            SearchSettings(),
            source=str(tmp_path / "predictions.csv"),
        )

    assert str(tmp_path / "predictions.csv") in str(raised.value)
    assert "no column 'group' or 'group_true'" in str(raised.value)
    assert "['path', 'y_true', 'y_pred', 'gender', 'age']" in str(raised.value)


def test_a_numeric_label_that_is_no_number_names_its_line(tmp_path):
    table = pd.DataFrame({"path": ["a.jpg", "b.jpg"], "y_true": ["no", "no"], "y_pred": ["no", "yes"]})
    table["age_years"] = ["31", "about forty"]
    table.to_csv(tmp_path / "predictions.csv", index=False)

    with pytest.raises(ValueError, match=r"predictions.csv, line 3: numeric label 'age_years' holds 'about forty'"):
        find_subgroups(
            read_predictions(tmp_path / "predictions.csv"),
            {"y": ["no", "yes"]},
            {"age_years": "numeric"},
            SearchSettings(),
            source=str(tmp_path / "predictions.csv"),
        )


def test_the_schema_defaults_give_the_search_settings():
    config = {
        "datasets": {"faces": {"layout": "synthetic", "labels": {"gender": GENDERS}}},
        "experiments": {"gender_mlp": {"dataset": "faces", "targets": ["gender"], "model": "mlp"}},
    }
    validate_config(config, SCHEMA)

    expected = SearchSettings(depth=2, reported=3, restarts=5, permutations=100, seed=0)
    assert SearchSettings.from_audit(config["audit"]) == expected
    config["audit"]["seed"] = 11
    assert SearchSettings.from_audit(config["audit"]).seed == 11, "the shuffles are drawn from the audit's seed"
