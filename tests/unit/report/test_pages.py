"""The report from real metrics, audit and figures: numbers shown, labels escaped, figures embedded, links valid."""

import base64
import json
import re

import pandas as pd
import pytest

from faceaudit.evaluation.calibration import audit_calibration
from faceaudit.evaluation.calibration_plots import plot_calibration
from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.metrics import compute_metrics
from faceaudit.evaluation.plots import plot_group_accuracy, plot_metrics, plot_training_curves
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.evaluation.subgroups import SearchSettings, find_subgroups
from faceaudit.evaluation.thresholds import audit_thresholds
from faceaudit.report import report_files, write_report
from faceaudit.report.cells import p_value_text

GENDER = ["Female", "Male"]
ODD_GROUP = "<b>Group & Co</b>"


def predictions_table() -> pd.DataFrame:
    truth = ["Male", "Male", "Female", "Female", "Male", "Female", "Male", "Female"]
    predicted = ["Male", "Female", "Female", "Male", "Male", "Female", "Male", "Female"]
    score = [0.9, 0.4, 0.2, 0.6, 0.8, 0.1, 0.7, 0.3]
    return pd.DataFrame(
        {
            "path": [f"images/{index}.jpg" for index in range(8)],
            "gender_true": truth,
            "gender_pred": predicted,
            "gender_score_0": [1 - value for value in score],
            "gender_score_1": score,
            "group": ["A", "A", "A", "A", ODD_GROUP, ODD_GROUP, ODD_GROUP, ODD_GROUP],
        }
    )


def training_block(patience: int | None) -> dict:
    """A run spec's `training`, as study.expand_runs writes it: one step, early stopping on val_loss."""
    stopping = {"patience": patience, "monitor": "val_loss", "restore_best_weights": True}
    return {
        "steps": [{"trainable": "all", "epochs": 2, "learning_rate": 0.001, "early_stopping": stopping}],
        "loss_weighting": {"method": "none"},
        "augmentation": {},
    }


def write_run(
    runs_dir,
    name: str,
    correct_rows: int = 8,
    grid_point: dict | None = None,
    run_info: dict | None = None,
    predictions: pd.DataFrame | None = None,
    audit_options: dict | None = None,
) -> dict:
    """A run's files as the workflow writes them; with `predictions` given, also its calibration and subgroups
    files, the audit run with `audit_options` (e.g. min_group_size)."""
    run_dir = runs_dir / name
    (run_dir / "metrics").mkdir(parents=True)
    (run_dir / "fairness").mkdir()
    if predictions is None:
        predictions = predictions_table()
        # Each run gets a different number of right answers among the first rows, so runs can be ranked.
        predictions.loc[: correct_rows - 1, "gender_pred"] = predictions.loc[: correct_rows - 1, "gender_true"]
    else:
        write_calibration_and_subgroups(run_dir, predictions)
    metrics = compute_metrics(predictions, {"gender": GENDER}, {"gender": "Male"})
    audit = audit_fairness(
        predictions,
        {"gender": GENDER},
        ["group"],
        {"gender": "Male"},
        privileged_groups={"group": "A"},
        settings=AuditSettings(**(audit_options or {})),
    )
    (run_dir / "metrics/test.json").write_text(json.dumps(metrics))
    (run_dir / "fairness/test.json").write_text(json.dumps(audit))
    plot_metrics(metrics, run_dir / "figures/test")
    plot_group_accuracy(audit, run_dir / "figures/group_accuracy_test.png")
    pd.DataFrame(
        {
            "epoch": [0, 1],
            "accuracy": [0.6, 0.8],
            "loss": [0.7, 0.5],
            "val_accuracy": [0.55, 0.75],
            "val_loss": [0.72, 0.6],
        }
    ).to_csv(run_dir / "history.csv", index=False)
    plot_training_curves(run_dir / "history.csv", run_dir / "figures/training_curves.png")
    spec = {
        "run": name,
        "experiment": name.split("__")[0],
        "dataset": "faces",
        "model": "small_cnn",
        "targets": {"gender": GENDER},
        "image_size": 16,
        "color": "gray",
        "grid_point": grid_point or {},
        "seed": 1,
        "eval_sets": ["test"],
        "hyperparameters": {"learning_rate": 0.001, "batch_size": 8, "epochs": 2, "optimizer": "adam"},
        "training": training_block(patience=1),
    }
    info = {
        **spec,
        "parameters": 1234,
        "architecture": "Dense <layer>",
        "epochs_completed": 2,
        "training_seconds": 3.5123456789,
        "images_per_second": [100.123456789, 120.987654321],
        "host": "node1",
        "slurm_job_id": None,
        "gpus": [],
        "tensorflow_version": "2.x",
        "keras_version": "3.x",
        "threads": 1,
        "pixel_range": [0.0, 255.0],
        **(run_info or {}),
    }
    (run_dir / "run.json").write_text(json.dumps(info))
    return spec


def write_calibration_and_subgroups(run_dir, predictions: pd.DataFrame) -> None:
    """What the audit job writes of calibration and subgroups for the eval set "test"."""
    groups = {"targets": {"gender": GENDER}, "sensitive_attributes": ["group"], "positive_classes": {"gender": "Male"}}
    calibration = audit_calibration(predictions, **groups, settings=AuditSettings(calibration_bins=5, resamples=200))
    thresholds = audit_thresholds(predictions, **groups)
    (run_dir / "calibration").mkdir()
    (run_dir / "calibration/test.json").write_text(json.dumps({"calibration": calibration, "thresholds": thresholds}))
    plot_calibration(calibration, thresholds, run_dir / "figures/calibration_test")
    settings = SearchSettings(depth=1, reported=2, restarts=2)
    subgroups = find_subgroups(predictions.astype(str), {"gender": GENDER}, {"group": ["A", "B", "C"]}, settings)
    (run_dir / "subgroups").mkdir()
    (run_dir / "subgroups/test.json").write_text(json.dumps(subgroups))


def report_inputs(root, runs: dict, datasets: list[str]) -> dict:
    """The files of the runs and datasets written under root, found by name as the report rule finds them."""
    return report_files(runs, {}, datasets, root=root)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One report, written once for the tests that read it."""
    tmp_path = tmp_path_factory.mktemp("study")
    runs = {
        "first": write_run(tmp_path / "runs", "first", correct_rows=0),
        "second": write_run(
            tmp_path / "runs", "second", 3, run_info={"restored_epochs": [{"step": 0, "epoch": 0, "step_epoch": 0}]}
        ),
    }
    for learning_rate, batch_size, correct in ((0.1, 8, 1), (0.1, 16, 2), (0.01, 8, 4), (0.01, 16, 5)):
        name = f"sweep__bs{batch_size}_lr{learning_rate:g}"
        grid_point = {"batch_size": batch_size, "learning_rate": learning_rate}
        runs[name] = write_run(tmp_path / "runs", name, correct, grid_point)
    data_dir = tmp_path / "data" / "faces"
    data_dir.mkdir(parents=True)
    pd.DataFrame(
        {"path": ["a.jpg", "b.jpg", "c.jpg"], "split": ["train", "test", "test"], "gender": [*GENDER, "Male"]}
        | {"age_years": ["29.7427319211103", "31.1", "50.25"]}
    ).to_csv(data_dir / "manifest.csv", index=False)
    rejects = [
        ("d.jpg", "unknown gender value 'X' (known: Female, Male)"),
        ("e.jpg", "unknown gender value 'Y' (known: Female, Male)"),
        ("f.jpg", "undecodable image: cannot identify image file '/data/faces/f.jpg'"),
        ("g.jpg", "unknown gender value 'Z' (known: Female, Male)"),
        ("h.jpg", "unknown gender value 'W' (known: Female, Male)"),
    ]
    pd.DataFrame(rejects, columns=["path", "reason"]).to_csv(data_dir / "rejects.csv", index=False)
    user_config = {
        "datasets": {"faces": {"layout": "synthetic", "labels": {"gender": GENDER, "age_years": "numeric"}}},
        "experiments": {"first": {"model": "small_cnn", "learning_rate": 0.001}},
    }
    config = {
        "datasets": {
            "faces": {
                "layout": "synthetic",
                "labels": {"gender": GENDER, "age_years": "numeric"},
                "synthetic": {"n_images": 8, "signal": 0.9},
            }
        },
        "experiments": {"first": {"model": "small_cnn", "learning_rate": 0.001, "batch_size": 32}},
        "audit": {"bootstrap_resamples": 1000},
    }
    environment = {"python": "3.11", "workflow commit": "abc123"}
    inputs = report_inputs(tmp_path, runs, ["faces"])
    write_report(runs, config, environment, inputs, tmp_path / "report", user_config=user_config)
    return tmp_path / "report"


def test_the_index_banner_speaks_of_single_runs_where_no_seeds_are_shown(report):
    """Issue 21, item 3: the banner said "every figure comes from one training run" above seed means; without seed
    aggregates on the page it says what the single runs are, and nothing of seeds."""
    index = (report / "index.html").read_text()
    assert "Each run&#39;s figures come from one training run with one seed" in index
    assert "Across training seeds" not in index and "Every figure comes from one" not in index


def test_overview_shows_each_runs_numbers_and_links_its_page(report):
    index = (report / "index.html").read_text()
    assert 'data-key="test.gender.accuracy" data-value="0.75"' in index  # the "first" run: 6 of 8 correct
    for name in ("first", "second"):
        assert f'href="runs/{name}.html"' in index and (report / "runs" / f"{name}.html").exists()
    assert "5 rows rejected" in index and "unknown gender value" in index
    assert "binary" in index, "the report says what the labels cannot capture"
    assert "Generative model" not in index and "Sequence models" not in index, "no VAE run, no sine comparison"


def test_labels_from_files_are_escaped(report):
    page = (report / "runs/first.html").read_text()
    assert ODD_GROUP not in page
    assert "&lt;b&gt;Group &amp; Co&lt;/b&gt;" in page
    assert "Dense &lt;layer&gt;" in page


def test_every_figure_is_an_embedded_png(report):
    page = (report / "runs/first.html").read_text()
    sources = re.findall(r'<img alt="[^"]*" src="([^"]+)"', page)
    assert len(sources) == 4  # training curves, confusion matrix, ROC, group accuracy
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_best_and_worst_runs_are_marked(report):
    index = (report / "index.html").read_text()
    assert re.search(r'<td class="worst" data-run="first" data-key="test.gender.accuracy"', index)
    assert re.search(r'<td class="best" data-run="sweep__bs8_lr0.01" data-key="test.gender.accuracy"', index)
    assert re.search(r'<td data-run="second" data-key="test.gender.accuracy"', index), "neither best nor worst"


def test_grid_is_shown_as_a_learning_rate_by_batch_size_table(report):
    index = (report / "index.html").read_text()
    grid = index[index.index("Hyperparameter grids") : index.index("<h2>Data</h2>")]
    assert "batch_size \\ learning_rate" in grid
    # Rows 1 and 3 are wrong in the base table. Batch size 8: lr 0.1 fixes row 0 only (6 of 8 right),
    # lr 0.01 fixes rows 0-3 (8 of 8); batch size 16: lr 0.1 fixes row 1 (7 of 8).
    assert re.search(r'<td class="name">8</td><td>0.7500</td><td>1.0000</td>', grid)
    assert re.search(r'<td class="name">16</td><td>0.8750</td><td>1.0000</td>', grid)


def test_environment_config_and_model_card(report):
    index = (report / "index.html").read_text()
    used = index[index.index("Configuration used") :]
    assert "abc123" in index and "small_cnn" in used and "n_images: 8" in used
    assert "fairface_csv" not in used, "another layout's defaults are left out"
    page = (report / "runs/first.html").read_text()
    card = page[page.index("Model card") : page.index("Training curves")]
    assert "Intended use" in card and "train 1, val 0, test 2" in card
    assert "gender by group: accuracy ranges from" in card
    assert "one training run" in card


def test_configuration_shows_what_the_user_set_apart_from_the_defaults(report):
    used = (report / "index.html").read_text().split("Configuration used", 1)[1]
    as_set, defaults = used.split("<details>", 1)
    assert "learning_rate: 0.001" in as_set, "a value the user set, although it equals a default"
    assert "n_images" not in as_set and "batch_size" not in as_set and "bootstrap_resamples" not in as_set
    for key, value in (
        ("datasets.faces.synthetic", "{n_images: 8, signal: 0.9}"),
        ("experiments.first.batch_size", "32"),
        ("audit", "{bootstrap_resamples: 1000}"),
    ):
        assert f'<td class="name">{key}</td><td class="name">{value}</td>' in defaults, key
    assert "learning_rate" not in defaults


def test_privileged_comparison_is_named_in_overview_run_page_and_model_card(report):
    index = (report / "index.html").read_text()
    assert 'data-key="test.gender.privileged_disparate_impact" data-value=' in index
    assert "group: all other groups vs A (privileged)" in index
    page = (report / "runs/first.html").read_text()
    assert '<td class="name">all other groups vs A (privileged)</td>' in page
    assert "others vs" not in page
    card = page[page.index("Model card") : page.index("Training curves")]
    assert "gender by group, all other groups vs A (privileged): positive class Male, disparate impact" in card


def test_every_rate_of_the_positive_class_names_it(report):
    page = (report / "runs/first.html").read_text()
    for rate in ("TPR", "FPR", "selection rate", "disparate impact", "statistical parity difference"):
        assert f"<th>{rate} (positive: Male)</th>" in page, rate
    assert "<th>TPR</th>" not in page and "<th>disparate_impact</th>" not in page
    assert "<h3>gender (positive class Male), n = 8</h3>" in page
    assert "test, gender (positive class Male): accuracy" in page
    index = (report / "index.html").read_text()
    assert '<td class="name">gender (positive: Male)</td>' in index


def visible_text(page: str) -> str:
    """What a reader sees: the page without its tags and attributes (data-value holds full numbers on purpose)."""
    return re.sub(r"<[^>]*>", " ", page)


def test_no_unformatted_number_reaches_a_page(report):
    for page in (report / "index.html", report / "runs/first.html", report / "runs/second.html"):
        text = visible_text(page.read_text())
        assert not re.findall(r"\d\.\d{6,}", text), page.name
    index = visible_text((report / "index.html").read_text())
    assert "37.03" in index, "the mean age in years, rounded"
    run_page = visible_text((report / "runs/first.html").read_text())
    assert re.search(r"training time \(s\)\s+3\.5\s", run_page)
    assert re.search(r"median epoch\)\s+121\.0\s", run_page)


def test_reject_reasons_are_counted_by_kind_with_example_paths(report):
    index = (report / "index.html").read_text()
    rows = re.findall(r'<tr><td class="name">([^<]*)</td><td>(\d+)</td><td class="name">([^<]*)</td></tr>', index)
    assert rows == [
        ("unknown gender value &#39;…&#39; (known: Female, Male)", "4", "d.jpg, e.jpg, g.jpg"),
        ("undecodable image: cannot identify image file &#39;…&#39;", "1", "f.jpg"),
    ]


def test_run_page_says_which_epochs_weights_were_kept(report):
    restored = (report / "runs/second.html").read_text()
    assert "epoch 1: early stopping restored epoch 1 (best val_loss)" in restored
    not_recorded = (report / "runs/first.html").read_text()
    assert "not recorded (this run.json predates restored_epochs)" in not_recorded


def test_model_card_names_only_the_gaps_flagged_after_adjustment_and_the_family_size():
    from faceaudit.report.model_card import fairness_findings

    untested = {"p_value": None, "adjusted_p_value": None, "distinguishable_from_zero": None}
    audit = {
        "gender": {
            "skipped_attributes": {},
            "group": {
                "groups": {"A": {"accuracy": 0.9}, "B": {"accuracy": 0.7}, "C": {"accuracy": None}},
                "best_group": "A",
                "worst_group": "B",
                "excluded_groups": [{"group": "C", "size": 4, "reason": "4 rows, fewer than min_group_size 30"}],
                "accuracy_vs_rest": {
                    "A": {
                        "difference": 0.2,
                        "ci": [0.1, 0.3],
                        "adjusted_p_value": 0.01,
                        "distinguishable_from_zero": True,
                    },
                    # Its interval excludes zero, but not after adjustment: the card does not call it a gap.
                    "B": {
                        "difference": -0.2,
                        "ci": [-0.3, -0.05],
                        "adjusted_p_value": 0.2,
                        "distinguishable_from_zero": False,
                    },
                    "C": {"difference": None, "ci": None, **untested},
                },
                "vs_rest": {
                    "A": {
                        "four_fifths_rule": "fails",
                        "four_fifths_flag": "above",
                        "disparate_impact": 1.3,
                        **untested,
                    },
                    "B": {
                        "four_fifths_rule": "fails",
                        "four_fifths_flag": "below",
                        "disparate_impact": 0.6,
                        **untested,
                    },
                },
                "multiple_comparisons": {"method": "holm", "family_size": 6, "alpha": 0.05},
            },
        }
    }
    findings = fairness_findings(audit)
    assert findings[0] == "gender by group: left out of gaps and flags for too few test rows: C (4 rows)."
    assert findings[1] == "gender by group: accuracy ranges from 0.700 (B) to 0.900 (A)."
    assert findings[2] == (
        "gender: group group=A is classified more accurately than the rest (+0.200, 95% CI [0.100, 0.300], adjusted "
        "p 0.010)."
    )
    assert not any("group=B is classified" in finding for finding in findings), "not flagged after adjustment"
    assert "fails the four-fifths rule (disparate impact 1.300, above 1.25)" in findings[3]
    assert "fails the four-fifths rule (disparate impact 0.600, below 0.8)" in findings[4]
    assert findings[-1] == "gender: 1 gap distinguishable from zero after Holm adjustment (family of 6 comparisons)."
    with_positive = fairness_findings(audit, {"gender": "Male"})
    assert "(positive class Male, disparate impact 0.600, below 0.8)" in with_positive[4]


def test_four_fifths_rule_and_subgroup_definitions_read_as_words():
    from faceaudit.report.fairness_tables import four_fifths_text
    from faceaudit.report.subgroup_tables import definition_text

    assert four_fifths_text({"four_fifths_rule": "fails", "four_fifths_flag": "below"}) == "fails: below 0.8"
    assert four_fifths_text({"four_fifths_rule": "fails", "four_fifths_flag": "above"}) == "fails: above 1.25"
    assert four_fifths_text({"four_fifths_rule": "passes", "four_fifths_flag": None}) == "passes (0.8 to 1.25)"
    assert four_fifths_text({"four_fifths_rule": None}) == "n/a"
    assert definition_text({"group": ["B"], "age": ["20-29", "50-59"]}) == "group = B and age in {20-29, 50-59}"


def test_a_regression_run_shows_mae_and_its_group_spread(tmp_path):
    predictions = pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(6)],
            "age_true": [20, 30, 40, 20, 30, 40],
            "age_pred": [21, 29, 40, 30, 20, 46],
            "group": ["A", "A", "A", "B", "B", "B"],
        }
    )
    run_dir = tmp_path / "runs/age_years"
    metrics = compute_metrics(predictions, {"age": "numeric"}, {})
    audit = audit_fairness(predictions, {"age": "numeric"}, ["group"], {}, settings=AuditSettings(resamples=100))
    for folder, content in (("metrics", metrics), ("fairness", audit)):
        (run_dir / folder).mkdir(parents=True)
        (run_dir / folder / "test.json").write_text(json.dumps(content))
    plot_metrics(metrics, run_dir / "figures/test")
    plot_group_accuracy(audit, run_dir / "figures/group_accuracy_test.png")
    pd.DataFrame({"epoch": [0], "loss": [3.0], "val_loss": [2.5]}).to_csv(run_dir / "history.csv", index=False)
    plot_training_curves(run_dir / "history.csv", run_dir / "figures/training_curves.png")
    spec = {
        "run": "age_years",
        "experiment": "age_years",
        "dataset": "faces",
        "model": "cnn_bn",
        "targets": {"age": "numeric"},
        "image_size": 16,
        "color": "gray",
        "grid_point": {},
        "seed": 1,
        "eval_sets": ["test"],
        "hyperparameters": {"learning_rate": 0.001, "batch_size": 8, "epochs": 1, "optimizer": "adam"},
    }
    info = {
        **spec,
        "parameters": 10,
        "architecture": "",
        "epochs_completed": 1,
        "training_seconds": 1.0,
        "images_per_second": [10.0],
        "host": "h",
        "slurm_job_id": None,
        "gpus": [],
        "tensorflow_version": "2",
        "keras_version": "3",
    }
    (run_dir / "run.json").write_text(json.dumps(info))
    data_dir = tmp_path / "data/faces"
    data_dir.mkdir(parents=True)
    pd.DataFrame({"path": ["a.jpg"], "split": ["test"], "group": ["A"]}).to_csv(data_dir / "manifest.csv", index=False)
    pd.DataFrame(columns=["path", "reason"]).to_csv(data_dir / "rejects.csv", index=False)
    config = {"datasets": {"faces": {"layout": "synthetic", "labels": {"group": ["A", "B"]}}}}
    runs = {"age_years": spec}
    write_report(runs, config, {}, report_inputs(tmp_path, runs, ["faces"]), tmp_path / "report")
    index = (tmp_path / "report/index.html").read_text()
    assert f'data-key="test.age.mae" data-value="{28 / 6!r}"' in index  # absolute errors 1 1 0 10 10 6
    assert f'data-key="test.age.mae_spread" data-value="{26 / 3 - 2 / 3!r}"' in index
    page = (tmp_path / "report/runs/age_years.html").read_text()
    assert "group MAE spread" in page and "MAE ranges from 0.667 (A) to 8.667 (B)" in page
    assert "Targets: age (numeric, regression)." in page, "not the letters of 'numeric' as classes"
    overview = index[index.index("<h2>Runs</h2>") : index.index("<h2>Data</h2>")]
    assert "<th>accuracy</th>" not in overview, "a study of regression runs only has no classifier columns"


MINIMUMS = {"min_group_size": 10, "min_positives": 3, "resamples": 200}


def audited_predictions() -> pd.DataFrame:
    """40 rows: group A (20) all right, C (14) always predicted Male (its 7 women wrong), B (6) too small to audit."""
    sizes, male_scores, female_scores = {"A": 20, "C": 14, "B": 6}, {"A": 0.8, "C": 0.7, "B": 0.6}, {"A": 0.2, "C": 0.7}
    rows = []
    for group, size in sizes.items():
        for index in range(size):
            truth = GENDER[index % 2]
            score = male_scores[group] if truth == "Male" else female_scores.get(group, 0.4)
            rows.append(
                {"group": group, "gender_true": truth, "gender_pred": GENDER[int(score >= 0.5)], "score": score}
            )
    table = pd.DataFrame(rows)
    score = table.pop("score")
    return table.assign(
        path=[f"{index}.jpg" for index in range(len(table))], gender_score_0=1 - score, gender_score_1=score
    )


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """One run audited with min_group_size 10 and min_positives 3, with calibration and worst subgroups: its page and
    the files it was written from."""
    root = tmp_path_factory.mktemp("audited")
    runs = {"audited": write_run(root / "runs", "audited", predictions=audited_predictions(), audit_options=MINIMUMS)}
    data_dir = root / "data/faces"
    data_dir.mkdir(parents=True)
    pd.DataFrame({"path": ["a.jpg"], "split": ["test"], "gender": ["Male"]}).to_csv(
        data_dir / "manifest.csv", index=False
    )
    pd.DataFrame(columns=["path", "reason"]).to_csv(data_dir / "rejects.csv", index=False)
    config = {"datasets": {"faces": {"layout": "synthetic", "labels": {"gender": GENDER}}}}
    files = report_inputs(root, runs, ["faces"])
    write_report(runs, config, {}, files, root / "report")
    run_dir = root / "runs/audited"
    return {
        "page": (root / "report/runs/audited.html").read_text(),
        **{name: json.loads((run_dir / f"{name}/test.json").read_text()) for name in ("fairness", "calibration")},
        "subgroups": json.loads((run_dir / "subgroups/test.json").read_text()),
    }


def section(page: str, heading: str, end: str) -> str:
    start = page.index(heading)
    return page[start : page.index(end, start)]


def test_a_small_group_reads_insufficient_data_with_the_reason_and_is_listed(audited):
    fairness = section(audited["page"], "<h4>gender by group", "<h3>Calibration")
    reason = "6 rows, fewer than min_group_size 10"
    b_row = re.search(r'<tr><td class="name">B</td>.*?</tr>', fairness).group(0)
    assert b_row.count(f'<td class="insufficient" title="{reason}">insufficient data</td>') == 9, b_row
    assert "<td>6</td><td>3</td>" in b_row, "its size and true positives are still shown"
    a_accuracy = audited["fairness"]["gender"]["group"]["groups"]["A"]["accuracy"]
    assert f'<tr><td class="name">A</td><td>20</td><td>10</td><td>{a_accuracy:.4f}</td>' in fairness
    assert "<li>B (6 rows, 3 of them Male): 6 rows, fewer than min_group_size 10; withheld: accuracy" in fairness
    assert "<th>base rate (positive: Male)</th><th>selection rate (positive: Male)</th>" in fairness
    assert "<th>smallest detectable accuracy gap</th>" in fairness


def test_tested_gaps_show_raw_and_adjusted_p_values_and_the_family(audited):
    audit = audited["fairness"]["gender"]["group"]
    family = audit["multiple_comparisons"]["family_size"]
    fairness = section(audited["page"], "<h4>gender by group", "<h3>Calibration")
    flag_header = f"distinguishable from zero after Holm adjustment (family of {family} comparisons)"
    assert f"<th>{flag_header}</th>" in fairness
    assert f"{family} gaps were tested against zero on this eval set" in audited["page"]
    parity = audit["vs_rest"]["C"]
    assert parity["distinguishable_from_zero"]["statistical_parity_difference"] is True  # C: always predicted Male
    adjusted = parity["adjusted_p_value"]["statistical_parity_difference"]
    c_row = re.search(
        r'<tr class="flagged"><td class="name">C vs rest</td><td class="name">statistical parity.*?</tr>', fairness
    )
    assert c_row and f"<td>{p_value_text(adjusted)}</td><td>yes</td>" in c_row.group(0), fairness
    assert re.search(r'<td class="name">B vs rest</td><td class="name">accuracy</td><td class="insufficient"', fairness)


def test_calibration_thresholds_and_worst_subgroups_are_shown(audited):
    page = audited["page"]
    calibration = section(page, "<h3>Calibration", "<h3>Decision thresholds")
    group_a = audited["calibration"]["calibration"]["gender"]["attributes"]["group"]["groups"]["A"]
    interval_start = f"{group_a['ece_equal_width_ci'][0]:.3f},"
    assert f'<td>{group_a["ece_equal_width"]:.4f} <span class="secondary">[{interval_start}' in calibration
    assert f'<td>{group_a["brier"]:.4f} <span class="secondary">[' in calibration
    assert re.search(r'<tr><td class="name">B</td><td>6</td><td class="insufficient"', calibration)
    assert "ECE gap (equal-mass bins): " in calibration and 'alt="reliability diagram: gender by group"' in calibration
    thresholds = section(page, "<h3>Decision thresholds", "<h3>Worst subgroups")
    rates = audited["calibration"]["thresholds"]["gender"]["attributes"]["group"]["groups"]["C"]
    for index, threshold in ((5, "0.3"), (9, "0.5"), (13, "0.7")):
        row = f'<tr><td class="name">C</td><td>{threshold}</td><td>14</td><td>{rates["tpr"][index]:.4f}</td>'
        assert row in thresholds, threshold
    assert 'alt="rates across thresholds: gender by group"' in thresholds
    worst = audited["subgroups"]["targets"]["gender"]["subgroups"][0]
    assert worst["definition"] == {"group": ["C"]}  # the group the model gets wrong
    subgroups = page[page.index("<h3>Worst subgroups") :]
    assert '<td>1</td><td class="name">group = C</td><td>14</td><td>7</td><td>0.500</td><td>0.175</td>' in subgroups
    assert f"<td>{worst['score']:.3f}</td>" in subgroups
    # Held against chance: beyond it, so highlighted as a finding, with the null's 95th percentile and adjusted p.
    found = audited["subgroups"]["targets"]["gender"]
    assert worst["beyond_chance"] and worst["adjusted_p_value"] < 0.05
    assert '<tr class="flagged"><td>1</td><td class="name">group = C</td>' in subgroups
    chance = [
        f"{found['null_95th_percentile']:.3f}",
        p_value_text(worst["p_value"]),
        p_value_text(worst["adjusted_p_value"]),
    ]
    assert f"<td>{worst['score']:.3f}</td><td>{'</td><td>'.join(chance)}</td>" in subgroups
    assert "gender: 1 of 1 subgroup beyond chance (Holm-adjusted p below 0.05)" in subgroups
    assert audited["subgroups"]["null_method"] in subgroups.replace("&#39;", "'")
