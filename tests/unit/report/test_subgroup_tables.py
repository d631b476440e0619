"""The worst-subgroups section as a reader sees it when chance explains every candidate, and without shuffles."""

import numpy as np
import pandas as pd

from faceaudit.evaluation.subgroups import SearchSettings, find_subgroups
from faceaudit.report.render import TEMPLATES
from faceaudit.report.subgroup_tables import subgroups_context

GROUPS = ["A", "B", "C"]


def unbiased_predictions(rows: int = 300) -> pd.DataFrame:
    """Binary target y, wrong one time in ten whatever the group."""
    generator = np.random.default_rng(5)
    wrong = generator.random(rows) < 0.1
    return pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(rows)],
            "y_true": "no",
            "y_pred": np.where(wrong, "yes", "no"),
            "group": generator.choice(GROUPS, rows),
        }
    )


def section(permutations: int) -> tuple[dict, str]:
    settings = SearchSettings(depth=1, reported=1, restarts=1, permutations=permutations)
    subgroups = find_subgroups(unbiased_predictions(), {"y": ["no", "yes"]}, {"group": GROUPS}, settings)
    html = TEMPLATES.get_template("calibration.html").module.subgroups_section(subgroups_context(subgroups))
    return subgroups["targets"]["y"], str(html)


def test_when_chance_explains_every_candidate_the_page_says_so_and_folds_the_candidates():
    found, html = section(permutations=40)

    top = found["subgroups"][0]
    assert not top["beyond_chance"], "no bias was injected"
    assert "<strong>y: no subgroup beyond chance." in html
    assert f"The best score, {top['score']:.3f}, has Holm-adjusted p {top['adjusted_p_value']:.3f}" in html
    assert f"chance alone scores {found['null_95th_percentile']:.3f} or more one time in twenty" in html
    folded = html[html.index('<details class="candidates">') : html.index("</details>")]
    assert "none beyond chance</summary>" in folded and "<td>1</td>" in folded
    assert 'class="flagged"' not in html
    assert "40 shuffles of the errors (seed 0)" in html and "Chance is measured by permutation" in html


def test_without_shuffles_the_page_says_the_scores_were_not_compared_with_chance():
    _, html = section(permutations=0)

    assert "no shuffles (subgroup_permutations: 0), so no comparison with chance" in html
    assert "<strong>y: not compared with chance; a high score alone is no finding.</strong>" in html
    assert "<details" not in html and "<td>n/a</td><td>n/a</td><td>n/a</td>" in html
