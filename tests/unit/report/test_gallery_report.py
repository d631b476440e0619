"""Run pages show the gallery's thumbnails, or none of them where the dataset's faces are off; published reference
numbers appear in the data section and beside the run's own value."""

import html
import json
import re

import numpy as np
import pandas as pd
import pytest
from test_pages import GENDER, ODD_GROUP, predictions_table, report_inputs, write_run

from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.gallery import GallerySettings, build_gallery
from faceaudit.evaluation.metrics import compute_metrics
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.report import write_report
from faceaudit.report.gallery_tables import ordinal_rows
from faceaudit.report.render import TEMPLATES

PUBLISHED = [
    {
        "source": "A paper <i>2020</i>",
        "url": "https://example.org/paper",
        "table": "Table 2",
        "metric": "accuracy",
        "value": 0.875,
        "target": "gender",
        "split_caveat": "their own split",
    },
    {"source": "Another", "metric": "disparate_impact", "value": 0.83, "target": "gender", "attribute": "group"},
    *(
        {"source": f"Versus {other}", "metric": "disparate_impact", "value": 0.9, "target": "gender"}
        | {"attribute": "group", "group": "A", "compared_with": other}
        for other in (ODD_GROUP, "rest")
    ),
    {"source": "About age", "metric": "accuracy", "value": 0.5, "target": "age"},
    {"source": "Third", "metric": "theil_index", "value": 0.11, "target": "gender", "attribute": "group", "group": "A"},
]


def gallery_predictions():
    """The run's predictions: in group A, row 1 wrongly Female at 0.7 and row 3 wrongly Male at 0.6; group B right."""
    predictions = predictions_table()
    predictions.loc[1, ["gender_score_0", "gender_score_1"]] = [0.7, 0.3]
    return predictions


def write_gallery(run_dir, show_faces: bool) -> None:
    """The gallery file for eval set "test", built from real arrays (each image flat grey, ten times its
    row number)."""
    predictions = gallery_predictions()
    images = np.stack([np.full((16, 16, 1), 10 * row, np.uint8) for row in range(len(predictions))])
    settings = GallerySettings(show_faces)
    gallery = build_gallery(predictions, images, predictions[["path"]], {"gender": GENDER}, ["group"], settings)
    (run_dir / "gallery").mkdir()
    (run_dir / "gallery/test.json").write_text(json.dumps(gallery))


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    runs = {name: write_run(root / "runs", name, correct_rows=6) for name in ("shown", "hidden")}
    write_gallery(root / "runs/shown", show_faces=True)
    write_gallery(root / "runs/hidden", show_faces=False)
    data_dir = root / "data/faces"
    data_dir.mkdir(parents=True)
    (data_dir / "manifest.csv").write_text("path,split,gender\na.jpg,test,Male\n")
    (data_dir / "rejects.csv").write_text("path,reason\n")
    files = report_inputs(root, runs, ["faces"])
    labels = {"gender": GENDER}
    config = {"datasets": {"faces": {"layout": "synthetic", "labels": labels, "published_results": PUBLISHED}}}
    write_report(runs, config, {"python": "3.11"}, files, root / "report")
    return {name: (root / "report/runs" / f"{name}.html").read_text() for name in runs} | {
        "index": (root / "report/index.html").read_text(),
        "audit": json.loads((root / "runs/shown/fairness/test.json").read_text()),
        "metrics": json.loads((root / "runs/shown/metrics/test.json").read_text()),
    }


def gallery_part(page: str) -> str:
    return page[page.index("The faces behind the numbers") :]


def test_run_page_shows_each_groups_most_confident_errors_as_thumbnails(pages):
    gallery = gallery_part(pages["shown"])
    assert re.search(r"<h4>gender: most confident errors per group</h4>", gallery)
    thumbnails = re.findall(r'<img alt="row (\d+): (images/\d+\.jpg)"[^>]*src="data:image/png;base64,', gallery)
    # Group A's errors, most confident first; group B has none.
    assert [row for row, _ in thumbnails] == ["1", "3"]
    assert "Female (0.70), truly Male" in gallery and "Male (0.60), truly Female" in gallery


def test_with_faces_off_the_page_lists_errors_without_any_face(pages):
    gallery = gallery_part(pages["hidden"])
    assert "Faces are not shown" in gallery
    assert "row 1: images/1.jpg: Female (0.70), truly Male" in gallery
    assert "<img" not in gallery.split("<h2>Architecture</h2>")[0].replace("averaged heatmap</th>", "")
    assert len(pages["hidden"]) < len(pages["shown"])


def test_published_numbers_stand_in_the_data_section_and_beside_the_runs_own(pages):
    assert "A paper &lt;i&gt;2020&lt;/i&gt;" in pages["index"] and "Table 2" in pages["index"]
    references = pages["shown"][pages["shown"].index("Published reference numbers") :]
    references = references[: references.index("</table>")]
    accuracy = pages["metrics"]["gender"]["accuracy"]
    assert (
        f'Table 2</td><td class="name">accuracy of gender</td><td>0.875</td><td class="name">test: {accuracy:.4f}'
        in references
    )
    # Issue 21: a comparison whose population the source does not state is not set beside any number of the run;
    # A against the other group on their rows is A's selection rate over the other's, A against the rest the audit's.
    assert 'group (population not stated)</td><td>0.83</td><td class="name">not compared: ' in references
    groups = pages["audit"]["gender"]["group"]["groups"]
    against_other = groups["A"]["selection_rate"] / groups[ODD_GROUP]["selection_rate"]
    assert (
        f"A vs {html.escape(ODD_GROUP)} (on the rows of the two groups only)</td><td>0.9</td>"
        f'<td class="name">test: {against_other:.4f}' in references
    )
    against_rest = pages["audit"]["gender"]["group"]["vs_rest"]["A"]["disparate_impact"]
    assert f'A vs the rest (all other rows)</td><td>0.9</td><td class="name">test: {against_rest:.4f}' in references
    assert '<td>0.11</td><td class="name">not measured here</td>' in references
    assert "About age" not in references  # another target than the run's


def test_an_ordinal_target_gets_its_bin_figures_overall_and_per_group_on_the_page():
    ages = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
    pairs = [(3, 3, "A"), (3, 4, "A"), (5, 3, "A"), (0, 8, "A"), (1, 1, "B"), (2, 2, "B"), (4, 5, "B"), (6, 6, "B")]
    table = pd.DataFrame(
        {
            "age_true": [ages[true] for true, _, _ in pairs],
            "age_pred": [ages[predicted] for _, predicted, _ in pairs],
            **{f"age_score_{index}": [float(pair[1] == index) for pair in pairs] for index in range(9)},
            "group": [group for *_, group in pairs],
        }
    )
    metrics = compute_metrics(table, {"age": ages}, {}, ordinal_targets=["age"])
    audit = audit_fairness(
        table, {"age": ages}, ["group"], {}, ordinal_targets=["age"], settings=AuditSettings(resamples=200)
    )
    page = TEMPLATES.from_string(
        '{% from "gallery.html" import ordinal_section %}{{ ordinal_section(tables) }}'
    ).render(tables=ordinal_rows(metrics, audit))
    rows = re.findall(
        r"<tr><td class=\"name\">(\w+)</td><td class=\"name\">(\w*)</td><td>(\d+)</td><td>([^<]*)</td>", page
    )
    assert [(attribute, group, n) for attribute, group, n, _ in rows] == [
        ("all", "", "8"),
        ("group", "A", "4"),
        ("group", "B", "4"),
    ]
    assert [exact.split()[0] for *_, exact in rows] == ["0.5000", "0.2500", "0.7500"]
    assert "<td>2.7500 [" in page and "<td>1.0000 [1.000, 1.000]</td>" in page  # A's distance; B's within-one
