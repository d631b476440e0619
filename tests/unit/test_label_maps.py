"""Label maps: other pipelines' label values into a target's classes, with every refused or left-out row explained."""

import math

import pandas as pd
import pytest

from faceaudit.label_maps import check_label_map, map_labels

FAIRFACE_RACES = ["White", "Black", "Latino_Hispanic", "East Asian", "Southeast Asian", "Indian", "Middle Eastern"]
FOUR_RACES = ["White", "Black", "Asian", "Indian"]
SEVEN_TO_FOUR = {"Latino_Hispanic": None, "East Asian": "Asian", "Southeast Asian": "Asian", "Middle Eastern": None}
FAIRFACE_AGES = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
AGE_EDGES = [0, 3, 10, 20, 30, 40, 50, 60, 70]
KEY = "experiments.x.imported.label_map.race"


def test_fairface_seven_races_become_four_with_two_left_out_on_purpose():
    values = pd.Series(FAIRFACE_RACES + ["Martian"])
    result = map_labels(values, SEVEN_TO_FOUR, FOUR_RACES, KEY)
    assert list(result.values) == ["White", "Black", None, "Asian", "Asian", "Indian", None, None]
    assert list(result.left_out) == [False, False, True, False, False, False, True, False]
    assert result.reasons[2] == f"left out by {KEY} ('Latino_Hispanic' maps to null)"
    assert result.reasons[7] == f"no mapping for 'Martian' in {KEY}"
    rejected = (result.reasons != "") & ~result.left_out
    assert (rejected.sum(), result.left_out.sum()) == (1, 2)


def test_utkface_integer_codes_from_yaml_match_the_text_read_from_a_csv():
    result = map_labels(pd.Series(["0", "1", "1", "2"]), {0: "Male", 1: "Female"}, ["Male", "Female"], "m")
    assert list(result.values[:3]) == ["Male", "Female", "Female"]
    assert result.reasons[3] == "no mapping for '2' in m"


def test_ages_in_years_fall_into_fairface_bins_with_the_last_bin_open():
    years = pd.Series(["0", "2.9", "3", "19", "20", "69.5", "70", "104", "-1", "old", ""])
    result = map_labels(years, {"bins": AGE_EDGES}, FAIRFACE_AGES, "m")
    assert list(result.values[:8]) == ["0-2", "0-2", "3-9", "10-19", "20-29", "60-69", "more than 70", "more than 70"]
    assert result.values[8:].isna().all()
    assert result.reasons[8] == "'-1' is below the first bin edge 0 of m"
    assert result.reasons[9] == "'old' is not a finite number, so it falls in no bin of m"
    assert not result.left_out.any()


def test_without_a_map_values_must_be_classes():
    result = map_labels(pd.Series(["White", "Asian", ""]), None, FAIRFACE_RACES, KEY)
    assert result.values[0] == "White"
    assert result.reasons[1].startswith(f"'Asian' is not a class of {KEY}'s target (classes: White, Black,")
    assert result.reasons[2].startswith("empty label")


def test_a_value_map_passes_classes_it_does_not_name_unchanged():
    result = map_labels(pd.Series(["White", "East Asian"]), SEVEN_TO_FOUR, FOUR_RACES, KEY)
    assert list(result.values) == ["White", "Asian"]
    assert (result.reasons == "").all()


def test_numeric_targets_parse_numbers_and_refuse_the_rest():
    result = map_labels(pd.Series(["23", "4.5", "inf", "nan", "twenty", "unknown"]), {"unknown": None}, "numeric", "m")
    assert result.values[0] == 23.0 and result.values[1] == 4.5
    assert all(result.reasons[2:5].str.contains("is not a finite number"))
    assert result.left_out[5] and not result.left_out[:5].any()
    assert all(isinstance(value, float) and not math.isnan(value) for value in result.values[:2])


@pytest.mark.parametrize(
    ("mapping", "classes", "message"),
    [
        ({"East Asian": "Asia"}, FOUR_RACES, "'East Asian' maps to 'Asia', not a class"),
        ({"bins": [0, 10, 10, 20]}, FOUR_RACES, "strictly increasing"),
        ({"bins": [0, 10]}, FOUR_RACES, "2 bin edges for 4 classes"),
        ({"bins": [0, 10]}, "numeric", "the target is numeric"),
        ({"bins": ["zero", 10, 20, 30]}, FOUR_RACES, "bins must be a list of numbers"),
        (["White"], FOUR_RACES, "a label map is"),
    ],
)
def test_maps_that_cannot_work_are_refused_naming_the_key(mapping, classes, message):
    with pytest.raises(ValueError, match=KEY) as error:
        check_label_map(mapping, classes, KEY)
    assert message in str(error.value)
