"""End to end: the real workflow on a tiny study, its report checked against the predictions, and a targeted rerun."""

import hashlib
import html.parser
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import TINY_STUDY, run_snakemake, write_config
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from faceaudit.study.audited import AUDITED_MODELS
from faceaudit.study.result_types import SHAPES, problems


class OverviewCells(html.parser.HTMLParser):
    """Collects the overview table's (run, key) -> exact value from the cells' data attributes."""

    def __init__(self):
        super().__init__()
        self.values = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "td" and "data-key" in attributes:
            value = attributes.get("data-value")
            self.values[(attributes["data-run"], attributes["data-key"])] = None if value is None else float(value)


def overview_values(study_dir: Path) -> dict:
    parser = OverviewCells()
    parser.feed((study_dir / "results/report/index.html").read_text())
    return parser.values


def test_every_stage_wrote_its_files(study_dir):
    for run, eval_sets in (("gender_cnn", ["val", "test", "other_faces-test"]), ("both_multitask", ["test"])):
        run_dir = study_dir / "results/runs" / run
        assert (run_dir / "model.keras").stat().st_size > 0
        assert len(pd.read_csv(run_dir / "history.csv")) == 2
        for eval_set in eval_sets:
            assert (run_dir / f"metrics/{eval_set}.json").exists()
            assert (run_dir / f"fairness/{eval_set}.json").exists()
            assert (run_dir / f"figures/{eval_set}/confusion_gender.png").exists()
        assert (study_dir / f"results/report/runs/{run}.html").exists()
    images = np.load(study_dir / "results/data/faces/16-rgb/train.npy", mmap_mode="r")
    assert images.dtype == np.uint8 and images.shape[1:] == (16, 16, 3)
    cross_dataset = pd.read_csv(study_dir / "results/runs/gender_cnn/predictions/other_faces-test.csv")
    assert len(cross_dataset) == 80, "the whole other dataset is the cross-dataset test set"


# Each result file by its name in the table of shapes (study.result_types.SHAPES), where the tiny study writes it.
RESULT_FILES = {
    "run_info": "runs/*/run.json",
    "metrics": "runs/*/metrics/*.json",
    "fairness": "runs/*/fairness/*.json",
    "calibration": "runs/*/calibration/*.json",
    "subgroups": "runs/*/subgroups/*.json",
    "gallery": "runs/*/gallery/*.json",
    "seeds": "seeds/*/*.json",
    "comparison": "comparisons/*/*.json",
    "data_audit": "data/*/data_audit.json",
}


def test_the_index_banner_points_to_the_seed_aggregates_it_shows(study_dir):
    """Issue 21, item 3: with configurations trained with several seeds on the page, the banner no longer says that
    every figure comes from one training run."""
    index = (study_dir / "results/report/index.html").read_text()
    assert "Every figure comes from one" not in index
    assert "Each run&#39;s figures come from one training run with one seed" in index
    assert "gives the configurations trained with several seeds as one" in index


def test_every_result_file_has_the_shape_its_writer_and_the_report_share(study_dir):
    """Every kind of run, eval set and target of the tiny study (trained, multi-task, regression, seeds,
    post-processed, external, imported, cross-dataset): each JSON file conforms to its declared shape."""
    assert set(RESULT_FILES) == set(SHAPES)
    for name, pattern in RESULT_FILES.items():
        files = sorted((study_dir / "results").glob(pattern))
        assert files, pattern
        for path in files:
            assert problems(json.loads(path.read_text()), SHAPES[name]) == [], path


def test_each_method_is_compared_with_its_baseline_on_the_index_and_the_model_card(study_dir):
    """Issue 21: the post-processed seeds against the seeds they were made from (paired), each mitigation against
    the configuration with its settings and no method; the baseline's side is its seed aggregate."""
    results = study_dir / "results"
    post = json.loads(
        (results / "comparisons/gender_seeds__post_threshold_optimizer_equalized_odds/test.json").read_text()
    )
    aggregate = json.loads((results / "seeds/gender_seeds/test.json").read_text())
    assert post["baseline"] == "gender_seeds" and post["pairing"] == "paired"
    accuracy = post["targets"]["gender"]["overall"]["accuracy"]
    assert accuracy["baseline"] == pytest.approx(aggregate["gender"]["overall"]["accuracy"]["mean"])
    for method in ("group_dro", "adversarial", "mmd"):
        mitigated = json.loads((results / f"comparisons/gender_mitigation__mit{method}/test.json").read_text())
        assert mitigated["baseline_runs"] == ["gender_seeds__seed0", "gender_seeds__seed1"]
        assert mitigated["pairing"] == "independent" and mitigated["retraining_covered"]
    index = (results / "report/index.html").read_text()
    assert index.index('id="comparisons"') < index.index('id="tradeoff"')
    assert "gender_seeds__post_threshold_optimizer_equalized_odds minus gender_seeds: gender on test" in index
    page = (results / "report/runs/gender_seeds__seed1__post_threshold_optimizer_equalized_odds.html").read_text()
    assert "Compared with its baseline" in page and "[test] compared with gender_seeds" in page


def test_two_seeds_are_two_runs_and_one_aggregate_whose_values_are_each_seeds_own(study_dir):
    aggregate = json.loads((study_dir / "results/seeds/gender_seeds/test.json").read_text())
    runs = ["gender_seeds__seed0", "gender_seeds__seed1"]
    assert aggregate["runs"] == runs
    combined = aggregate["gender"]["attributes"]["group"]
    for run in runs:
        own = json.loads((study_dir / f"results/runs/{run}/fairness/test.json").read_text())["gender"]["group"]
        for name, versus in own["accuracy_vs_rest"].items():
            assert combined["accuracy_vs_rest"][name]["per_seed"][run] == pytest.approx(versus["difference"])
        for name, rates in own["groups"].items():
            assert combined["groups"][name]["accuracy"]["per_seed"][run] == pytest.approx(rates["accuracy"])
    predictions = [pd.read_csv(study_dir / f"results/runs/{run}/predictions/test.csv") for run in runs]
    scores = [table["gender_score_1"] for table in predictions]
    assert not scores[0].equals(scores[1]), "the seeds trained other models"
    assert predictions[0]["path"].equals(predictions[1]["path"]), "the split stays fixed across seeds"
    index = (study_dir / "results/report/index.html").read_text()
    assert "Across training seeds" in index and "gender_seeds (2 seeds)" in index


def test_post_processed_seeds_are_runs_evaluated_audited_aggregated_and_reported(study_dir):
    """gender_seeds' post_processing entry: each seed's scores adjusted by fairlearn's ThresholdOptimizer fitted on
    its val predictions (made for this, though val is no eval set of it), with no training, as a run of its own."""
    from fairlearn.postprocessing import ThresholdOptimizer

    from faceaudit.postprocessing.methods import SavedScore

    derived = [f"gender_seeds__seed{seed}__post_threshold_optimizer_equalized_odds" for seed in (0, 1)]
    for seed, run in enumerate(derived):
        source_dir, run_dir = study_dir / f"results/runs/gender_seeds__seed{seed}", study_dir / "results/runs" / run
        info = json.loads((run_dir / "run.json").read_text())
        assert info["origin"] == "post_processing" and info["source_run"] == f"gender_seeds__seed{seed}"
        assert not (run_dir / "model.keras").exists(), "a derived run is not trained"
        val, test = (pd.read_csv(source_dir / f"predictions/{name}.csv") for name in ("val", "test"))
        direct = ThresholdOptimizer(
            estimator=SavedScore(), constraints="equalized_odds", prefit=True, predict_method="predict"
        )
        direct.fit(val[["gender_score_1"]], val["gender_true"] == "Male", sensitive_features=val["group"])
        expected = direct.predict(
            test[["gender_score_1"]], sensitive_features=test["group"], random_state=info["post_processing"]["seed"]
        )
        predictions = pd.read_csv(run_dir / "predictions/test.csv")
        assert list(predictions.columns) == list(test.columns) and predictions["path"].equals(test["path"])
        np.testing.assert_array_equal(predictions["gender_score_1"], expected)
        metrics = json.loads((run_dir / "metrics/test.json").read_text())["gender"]
        truth, predicted = predictions["gender_true"], predictions["gender_pred"]
        assert metrics["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
        assert "group" in json.loads((run_dir / "fairness/test.json").read_text())["gender"]
        page = (study_dir / f"results/report/runs/{run}.html").read_text()
        assert "post-processed" in page and "needs each person&#39;s group" in page
    aggregate = study_dir / "results/seeds/gender_seeds__post_threshold_optimizer_equalized_odds/test.json"
    assert json.loads(aggregate.read_text())["runs"] == derived


def test_report_numbers_equal_those_recomputed_from_predictions(study_dir):
    values = overview_values(study_dir)
    checked = 0
    cases = (
        ("gender_cnn", "val", "gender"),
        ("gender_cnn", "test", "gender"),
        ("gender_cnn", "other_faces-test", "gender"),
        ("both_multitask", "test", "gender"),
        ("both_multitask", "test", "age"),
    )
    for run, eval_set, target in cases:
        predictions = pd.read_csv(study_dir / f"results/runs/{run}/predictions/{eval_set}.csv")
        truth, predicted = predictions[f"{target}_true"], predictions[f"{target}_pred"]
        key = f"{eval_set}.{target}"
        assert values[(run, f"{key}.accuracy")] == pytest.approx(accuracy_score(truth, predicted))
        group_accuracy = (truth == predicted).groupby(predictions["group"]).mean()
        gaps = [group_accuracy.max() - group_accuracy.min()]
        if target == "gender":
            assert values[(run, f"{key}.f1")] == pytest.approx(f1_score(truth, predicted, pos_label="Male"))
            assert values[(run, f"{key}.auc")] == pytest.approx(
                roc_auc_score(truth == "Male", predictions[f"{target}_score_1"])
            )
            selected = predicted == "Male"
            impacts = [
                selected[predictions["group"] == g].mean() / selected[predictions["group"] != g].mean()
                for g in ("A", "B")
            ]
            assert values[(run, f"{key}.disparate_impact_min")] == pytest.approx(min(impacts))
        else:
            gender_accuracy = (truth == predicted).groupby(predictions["gender"]).mean()
            gaps.append(gender_accuracy.max() - gender_accuracy.min())
            assert values[(run, f"{key}.f1")] == pytest.approx(
                f1_score(truth, predicted, average="macro", labels=sorted(set(truth) | set(predicted)))
            )
        assert values[(run, f"{key}.accuracy_gap")] == pytest.approx(max(gaps))
        checked += 1
    assert checked == 5


def test_age_regression_with_group_weights_is_trained_evaluated_and_audited(study_dir):
    run_dir = study_dir / "results/runs/age_regression"
    info = json.loads((run_dir / "run.json").read_text())
    train_rows = pd.read_csv(study_dir / "results/data/faces/16-gray/train.csv", dtype=str)
    sizes = train_rows["group"].value_counts()
    for group, size in sizes.items():  # N / (k n_group): each group carries the same total weight
        assert info["loss_weights"]["groups"][group] == {
            "n": size,
            "weight": pytest.approx(len(train_rows) / (2 * size), abs=1e-5),
        }
    predictions = pd.read_csv(run_dir / "predictions/test.csv")
    error = (predictions["age_years_pred"] - predictions["age_years_true"]).abs()
    values = overview_values(study_dir)
    assert values[("age_regression", "test.age_years.mae")] == pytest.approx(error.mean())
    group_mae = error.groupby(predictions["group"]).mean()
    assert values[("age_regression", "test.age_years.mae_spread")] == pytest.approx(
        max(
            group_mae.max() - group_mae.min(),
            error.groupby(predictions["gender"]).mean().pipe(lambda mae: mae.max() - mae.min()),
        )
    )


def test_snakemakes_own_report_carries_the_faceaudit_report(study_dir):
    import zipfile

    run_snakemake(study_dir, "--report", "snakemake-report.zip")
    with zipfile.ZipFile(study_dir / "snakemake-report.zip") as archive:
        names = archive.namelist()
        embedded = [name for name in names if name.endswith("/index.html")]
        assert len(embedded) == 1, names
        assert archive.read(embedded[0]) == (study_dir / "results/report/index.html").read_bytes()
        assert any(name.endswith("/gender_cnn.html") for name in names)
        assert b"faceaudit report" in archive.read("snakemake-report/report.html")


def test_changing_one_runs_hyperparameter_retrains_only_that_run(study_dir):
    def modified_times():
        return {
            path.relative_to(study_dir): path.stat().st_mtime_ns
            for path in (study_dir / "results").rglob("*")
            if path.is_file()
        }

    before = modified_times()
    changed = yaml.safe_load(yaml.safe_dump(TINY_STUDY))
    changed["experiments"]["both_multitask"]["learning_rate"] = 0.003
    write_config(study_dir, changed)
    run_snakemake(study_dir)
    after = modified_times()
    rewritten = {path for path in before if after[path] != before[path]}
    rewritten_runs = {path.parts[2] for path in rewritten if path.parts[:2] == ("results", "runs")}
    assert rewritten_runs == {"both_multitask"}
    assert Path("results/runs/both_multitask/model.keras") in rewritten
    assert not any(path.parts[:2] == ("results", "data") for path in rewritten)
    assert Path("results/report/index.html") in rewritten


def test_adding_then_removing_an_experiment_rebuilds_exactly_what_it_affects(study_dir):
    """Issue 11, item 1: an added experiment is trained and reported, a removed one leaves the report, and no other
    run is retrained either time."""
    config_path = study_dir / "config" / "config.yaml"
    original = config_path.read_text()
    trained = [path.parent.name for path in (study_dir / "results/runs").glob("*/model.keras")]
    trained_here = [name for name, spec in TINY_STUDY["experiments"].items() if spec["model"] not in AUDITED_MODELS]
    assert len(trained) >= len(trained_here), "every experiment that trains trained at least one run"
    models = {name: (study_dir / f"results/runs/{name}/model.keras").stat().st_mtime_ns for name in trained}
    added = yaml.safe_load(original)
    added["experiments"]["gender_mlp_added"] = {
        "dataset": "faces",
        "targets": ["gender"],
        "model": "mlp",
        "image": {"size": 16, "color": "gray"},
        "epochs": 1,
    }
    config_path.write_text(yaml.safe_dump(added))
    run_snakemake(study_dir)

    index = (study_dir / "results/report/index.html").read_text()
    assert (study_dir / "results/runs/gender_mlp_added/model.keras").exists()
    assert (study_dir / "results/report/runs/gender_mlp_added.html").exists() and "gender_mlp_added" in index

    config_path.write_text(original)
    run_snakemake(study_dir)

    index = (study_dir / "results/report/index.html").read_text()
    assert "gender_mlp_added" not in index
    assert not (study_dir / "results/report/runs/gender_mlp_added.html").exists()
    unchanged = {name: (study_dir / f"results/runs/{name}/model.keras").stat().st_mtime_ns for name in models}
    assert unchanged == models


def test_adding_an_eval_set_or_changing_resources_does_not_retrain(study_dir):
    model = study_dir / "results/runs/both_multitask/model.keras"
    other_model = study_dir / "results/runs/gender_cnn/model.keras"
    before = (model.stat().st_mtime_ns, other_model.stat().st_mtime_ns)
    changed = yaml.safe_load((study_dir / "config/config.yaml").read_text())
    changed["experiments"]["both_multitask"]["eval_sets"] = ["val", "test"]
    changed["experiments"]["gender_cnn"]["resources"] = {"runtime": 15, "mem_mb": 2000}
    write_config(study_dir, changed)
    run_snakemake(study_dir)
    assert (model.stat().st_mtime_ns, other_model.stat().st_mtime_ns) == before
    assert (study_dir / "results/runs/both_multitask/metrics/val.json").exists()
    assert 'data-key="val.age.accuracy"' in (study_dir / "results/report/index.html").read_text()


def test_models_trained_elsewhere_give_the_numbers_of_the_run_whose_files_they_are(study_dir):
    """Issue 14: gender_cnn's model file run as an external model, and its test predictions imported as a prediction
    file, are evaluated and audited like a trained run and give exactly gender_cnn's predictions, metrics and audit."""
    runs = study_dir / "results/runs"
    for audited in ("gender_cnn_file__external", "gender_cnn_csv__imported"):
        for kind in ("metrics", "fairness", "calibration"):
            ours, theirs = (
                json.loads((runs / run / kind / "test.json").read_text()) for run in (audited, "gender_cnn")
            )
            assert ours == theirs, (audited, kind)
        assert pd.read_csv(runs / audited / "rejects/test.csv").empty
        info = json.loads((runs / audited / "run.json").read_text())
        audited_file = study_dir / info["files"][0]["path"]
        assert info["files"][0]["sha256"] == hashlib.sha256(audited_file.read_bytes()).hexdigest()
        page = (study_dir / f"results/report/runs/{audited}.html").read_text()
        assert "Training curves" not in page and "sha256 " + info["files"][0]["sha256"] in page
    # The external model on another dataset whose genders are named woman/man, mapped by label_maps.
    external, trained = (
        pd.read_csv(runs / run / "predictions/other_faces-test.csv")
        for run in ("gender_cnn_file__external", "gender_cnn")
    )
    pd.testing.assert_frame_equal(external, trained)
    assert sorted(trained["gender_true"].unique()) == ["Female", "Male"] and len(trained) == 80
    # The external model's gallery shows the trained run's most confident errors (without Grad-CAM).
    galleries = [
        json.loads((runs / run / "gallery/test.json").read_text())
        for run in ("gender_cnn_file__external", "gender_cnn")
    ]
    for group in ("A", "B"):
        ours, theirs = (gallery["targets"]["gender"]["group"][group]["examples"] for gallery in galleries)
        assert [example["path"] for example in ours] == [example["path"] for example in theirs] and ours
        assert all(example["heatmap"] is None for example in ours)


def test_rows_left_out_by_a_label_map_are_counted_and_shown(study_dir):
    """gender_cnn's val predictions imported with the class Male mapped to null: every row predicted Male is left
    out, listed with its reason, and the run page says how many."""
    predicted = pd.read_csv(study_dir / "results/runs/gender_cnn/predictions/val.csv")
    imported = pd.read_csv(study_dir / "results/runs/gender_cnn_female_only__imported/predictions/val.csv")
    rejects = pd.read_csv(study_dir / "results/runs/gender_cnn_female_only__imported/rejects/val.csv")
    left_out = predicted[predicted["gender_pred"] == "Male"]
    assert 0 < len(left_out) < len(predicted), "the tiny model predicts both classes on val"
    assert sorted(rejects["id"]) == sorted(left_out["path"]) and set(rejects["kind"]) == {"left_out"}
    assert sorted(imported["path"]) == sorted(predicted.loc[predicted["gender_pred"] == "Female", "path"])
    page = (study_dir / "results/report/runs/gender_cnn_female_only__imported.html").read_text()
    assert "Rows not audited" in page and f"<td>{len(left_out)}</td>" in page
