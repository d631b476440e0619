"""Loss weights of the train split, checked against weights worked out by hand on a small imbalanced manifest."""

import re

import numpy as np
import pandas as pd
import pytest

from faceaudit.training.loss_weights import describe_weights, sample_weights

AGES = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+"]
TARGETS = {"gender": ["Female", "Male"], "age": AGES, "group": ["A", "B", "C"]}
PRIVILEGED = {"group": "A", "age": "20-29"}
CELLS = {
    ("Female", "A"): 10,
    ("Female", "B"): 20,
    ("Female", "C"): 30,
    ("Male", "A"): 25,
    ("Male", "B"): 10,
    ("Male", "C"): 5,
}


def manifest_rows(cells: dict = CELLS) -> pd.DataFrame:
    """100 rows: Female 60 / Male 40; groups A 35, B 30, C 35; age bins in turn; shuffled so order means nothing."""
    pairs = [pair for pair, count in cells.items() for _ in range(count)]
    rows = pd.DataFrame(
        {
            "path": [f"img_{index}.jpg" for index in range(len(pairs))],
            "gender": [gender for gender, _ in pairs],
            "group": [group for _, group in pairs],
            "age": [AGES[index % len(AGES)] for index in range(len(pairs))],
        }
    )
    return rows.sample(frac=1, random_state=0).reset_index(drop=True)


def weighting(method: str, attributes=(), target=None) -> dict:
    return {"method": method, "attributes": list(attributes), "target": target}


def weights_by_cell(rows: pd.DataFrame, weights: np.ndarray, columns: list[str]) -> dict:
    """The one weight of each cell of `columns`; fails if a cell's rows disagree."""
    cells = {}
    for key, positions in rows.groupby(columns).indices.items():
        assert np.ptp(weights[positions]) == 0, f"weights differ within {key}"
        cells[key] = float(weights[positions[0]])
    return cells


def test_method_none_gives_no_weights():
    assert sample_weights(manifest_rows(), weighting("none"), TARGETS, PRIVILEGED) is None


def test_class_weights_are_balanced_over_the_first_target_by_default():
    rows = manifest_rows()

    weights = sample_weights(rows, weighting("class"), TARGETS, PRIVILEGED)

    assert weights.dtype == np.float32 and weights.shape == (100,)
    assert weights_by_cell(rows, weights, ["gender"]) == pytest.approx(
        {"Female": 100 / (2 * 60), "Male": 100 / (2 * 40)}
    )
    assert weights.mean() == pytest.approx(1)
    assert weights[rows["gender"] == "Female"].sum() == pytest.approx(weights[rows["gender"] == "Male"].sum())


def test_class_weights_count_only_the_classes_present():
    rows = manifest_rows()

    weights = sample_weights(rows, weighting("class", target="age"), TARGETS, PRIVILEGED)

    counts = rows["age"].value_counts()
    assert weights_by_cell(rows, weights, ["age"]) == pytest.approx({age: 100 / (9 * counts[age]) for age in AGES})

    without_infants = rows[rows["age"] != "0-2"].reset_index(drop=True)
    weights = sample_weights(without_infants, weighting("class", target="age"), TARGETS, PRIVILEGED)
    assert weights_by_cell(without_infants, weights, ["age"]) == pytest.approx(
        {age: len(without_infants) / (8 * counts[age]) for age in AGES[1:]}
    )
    assert weights.mean() == pytest.approx(1)


def test_group_weights_balance_the_intersections_of_the_attributes():
    rows = manifest_rows()

    weights = sample_weights(rows, weighting("group", ["gender", "group"]), TARGETS, PRIVILEGED)

    assert weights.dtype == np.float32 and weights.shape == (100,)
    assert weights_by_cell(rows, weights, ["gender", "group"]) == pytest.approx(
        {cell: 100 / (6 * count) for cell, count in CELLS.items()}
    )
    assert weights_by_cell(rows, weights, ["gender", "group"])[("Male", "C")] == pytest.approx(10 / 3)
    assert weights.mean() == pytest.approx(1)


def test_group_weights_count_only_non_empty_groups():
    cells = {cell: count for cell, count in CELLS.items() if cell != ("Male", "C")}
    rows = manifest_rows(cells)

    weights = sample_weights(rows, weighting("group", ["gender", "group"]), TARGETS, PRIVILEGED)

    assert weights_by_cell(rows, weights, ["gender", "group"]) == pytest.approx(
        {cell: 95 / (5 * count) for cell, count in cells.items()}
    )
    assert weights.mean() == pytest.approx(1)


def favourable_rate(weights: np.ndarray, favourable: np.ndarray, rows_of_group: np.ndarray) -> float:
    return float(weights[rows_of_group & favourable].sum() / weights[rows_of_group].sum())


def test_reweighing_matches_the_hand_formula_for_one_attribute():
    """Privileged: group A (35 rows, 25 Male); Male (the last class) is favourable, P(Male) = 0.4."""
    rows = manifest_rows()

    weights = sample_weights(rows, weighting("reweighing", ["group"]), TARGETS, PRIVILEGED)

    assert weights.dtype == np.float32 and weights.shape == (100,)
    privileged = rows["group"].eq("A").rename("privileged")
    assert weights_by_cell(rows.assign(privileged=privileged), weights, ["privileged", "gender"]) == pytest.approx(
        {
            (True, "Male"): 0.35 * 0.4 / 0.25,
            (True, "Female"): 0.35 * 0.6 / 0.10,
            (False, "Male"): 0.65 * 0.4 / 0.15,
            (False, "Female"): 0.65 * 0.6 / 0.50,
        }
    )
    male = (rows["gender"] == "Male").to_numpy()
    assert favourable_rate(np.ones(100), male, privileged.to_numpy()) == pytest.approx(25 / 35)
    assert favourable_rate(weights, male, privileged.to_numpy()) == pytest.approx(0.4)
    assert favourable_rate(weights, male, ~privileged.to_numpy()) == pytest.approx(0.4)


def test_reweighing_on_two_attributes_makes_the_target_independent_of_privilege():
    """Privileged rows are in group A *and* aged 20-29; every other row is unprivileged."""
    rows = manifest_rows()

    weights = sample_weights(rows, weighting("reweighing", ["group", "age"], "gender"), TARGETS, PRIVILEGED)

    privileged = ((rows["group"] == "A") & (rows["age"] == "20-29")).to_numpy()
    male = (rows["gender"] == "Male").to_numpy()
    assert 0 < privileged.sum() < 100
    for in_group in (privileged, ~privileged):
        for label in (male, ~male):
            hand = in_group.mean() * label.mean() / (in_group & label).mean()
            assert weights[in_group & label] == pytest.approx(np.full((in_group & label).sum(), hand), rel=1e-6)
    assert favourable_rate(weights, male, privileged) == pytest.approx(favourable_rate(weights, male, ~privileged))
    assert favourable_rate(weights, male, privileged) == pytest.approx(male.mean())


def test_reweighing_reads_privileged_groups_and_positive_class_from_the_resolved_block():
    rows = manifest_rows()
    resolved = weighting("reweighing", ["group"], "gender") | {
        "privileged_groups": {"group": "A"},
        "positive_class": "Female",
    }

    from_block = sample_weights(rows, resolved, TARGETS)

    np.testing.assert_array_equal(
        from_block, sample_weights(rows, weighting("reweighing", ["group"]), TARGETS, PRIVILEGED)
    )
    with pytest.raises(
        ValueError, match=re.escape("target 'gender': positive class 'Other' is not one of its classes")
    ):
        sample_weights(rows, resolved | {"positive_class": "Other"}, TARGETS)


def test_describe_weights_gives_size_and_weight_of_each_group():
    rows = manifest_rows()
    weights = sample_weights(rows, weighting("group", ["gender", "group"]), TARGETS, PRIVILEGED)

    description = describe_weights(rows, weights, ["gender", "group"])

    assert description["attributes"] == "gender+group"
    assert list(description["groups"]) == ["Female+A", "Female+B", "Female+C", "Male+A", "Male+B", "Male+C"]
    assert description["groups"]["Female+A"] == {"n": 10, "weight": pytest.approx(100 / 60)}
    assert description["groups"]["Male+C"] == {"n": 5, "weight": pytest.approx(100 / 30)}
    assert sum(group["n"] for group in description["groups"].values()) == 100


def test_describe_weights_of_reweighing_reports_the_mean_weight_of_each_group():
    rows = manifest_rows()
    weights = sample_weights(rows, weighting("reweighing", ["group"]), TARGETS, PRIVILEGED)

    groups = describe_weights(rows, weights, ["group"])["groups"]

    assert groups["A"] == {"n": 35, "weight": pytest.approx((25 * 0.56 + 10 * 2.1) / 35)}
    assert groups["B"]["weight"] == pytest.approx((10 * 0.65 * 0.4 / 0.15 + 20 * 0.78) / 30)


@pytest.mark.parametrize(
    ("block", "targets", "privileged_groups", "message"),
    [
        (
            weighting("balanced"),
            TARGETS,
            PRIVILEGED,
            "weighting.method: unknown method 'balanced'; expected one of ['none', 'class', 'group', 'reweighing']",
        ),
        (
            weighting("group", ["gender", "hair"]),
            TARGETS,
            PRIVILEGED,
            (
                "weighting.attributes: 'hair' is not a label of the dataset; "
                "its rows have columns ['path', 'gender', 'group', 'age']"
            ),
        ),
        (
            weighting("reweighing", ["hair"]),
            TARGETS,
            PRIVILEGED,
            "weighting.attributes: 'hair' is not a label of the dataset",
        ),
        (
            weighting("group"),
            TARGETS,
            PRIVILEGED,
            "weighting.attributes: method 'group' needs the attributes whose groups are weighted",
        ),
        (
            weighting("reweighing"),
            TARGETS,
            PRIVILEGED,
            "weighting.attributes: method 'reweighing' needs the attributes whose groups are weighted",
        ),
        (
            weighting("reweighing", ["group"], "age"),
            TARGETS,
            PRIVILEGED,
            "weighting.target: reweighing needs a binary target; 'age' has 9 classes",
        ),
        (
            weighting("reweighing", ["gender"], "group"),
            TARGETS,
            PRIVILEGED,
            "weighting.target: reweighing needs a binary target; 'group' has 3 classes",
        ),
        (
            weighting("reweighing", ["group", "age"]),
            TARGETS,
            {"group": "A"},
            (
                "weighting.attributes: reweighing needs a privileged group of 'age'; "
                "add it under the dataset's privileged_groups"
            ),
        ),
        (
            weighting("class", target="race"),
            TARGETS,
            PRIVILEGED,
            "weighting.target: 'race' is not one of the targets ['gender', 'age', 'group']",
        ),
        (
            weighting("class"),
            {"race": ["Asian", "Black"]},
            PRIVILEGED,
            "weighting.target: 'race' is not a label of the dataset",
        ),
        (
            weighting("class", target="age"),
            {"gender": ["Female", "Male"], "age": "numeric"},
            PRIVILEGED,
            "weighting.target: method 'class' weights the classes of 'age', which is numeric",
        ),
        (
            weighting("reweighing", ["group"]),
            TARGETS,
            {"group": "D"},
            (
                "privileged_groups: reweighing needs privileged (group=D) and unprivileged rows; "
                "the train split has 0 privileged of 100"
            ),
        ),
    ],
)
def test_bad_weighting_names_the_key_and_value(block, targets, privileged_groups, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        sample_weights(manifest_rows(), block, targets, privileged_groups)
