"""The report in a real browser: headless Chromium opens it from disk, every figure loads, the numbers it shows
equal the metrics files, no page is wider than a 1,400 px window, names holding markup are shown as text (in our
report and in Snakemake's `--report` archive) and run nothing, and screenshots are kept as test artifacts
(test-artifacts/)."""

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import TINY_STUDY, run_snakemake, write_config

ARTIFACTS = Path(os.environ.get("FACEAUDIT_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# Without background networking Chromium makes no connections of its own on this offline machine.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
]
BROKEN_IMAGES = "return Array.from(document.images).filter(image => !(image.complete && image.naturalWidth > 0)).length"
OVERVIEW_CELLS = (
    "return Array.from(document.querySelectorAll('td[data-key]'))"
    ".map(cell => [cell.dataset.run, cell.dataset.key, cell.innerText])"
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        message = "Chromium and chromedriver are needed: run `make system-deps` (as root) first"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def open_page(browser, path: Path):
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"


def save_screenshot(browser, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1400, min(height + 100, 8000))
    path = ARTIFACTS / name
    assert browser.save_screenshot(str(path)), path
    return path


def expected_value(study_dir: Path, run: str, key: str):
    """The value a cell should show, read from the run's metrics and fairness JSON files (None: shown as n/a)."""
    eval_set, target, metric = key.split(".")
    metrics = json.loads((study_dir / f"results/runs/{run}/metrics/{eval_set}.json").read_text())[target]
    if metric == "auc":
        return metrics.get("roc", {}).get("auc")
    if metric not in ("accuracy_gap", "mae_spread", "disparate_impact_min", "privileged_disparate_impact"):
        return metrics.get(metric)
    fairness = json.loads((study_dir / f"results/runs/{run}/fairness/{eval_set}.json").read_text())[target]
    audits = [audit for attribute, audit in fairness.items() if attribute != "skipped_attributes"]
    if metric == "privileged_disparate_impact":
        impacts = [audit.get("privileged", {}).get("disparate_impact") for audit in audits]
    elif metric == "disparate_impact_min":
        impacts = [scores["disparate_impact"] for audit in audits for scores in audit.get("vs_rest", {}).values()]
    else:
        gaps = [audit[metric] for audit in audits if metric in audit]
        return max(gaps) if gaps else None
    defined = [value for value in impacts if value is not None]
    return min(defined) if defined else None


def test_overview_shows_the_numbers_of_the_metrics_files(browser, study_dir):
    open_page(browser, study_dir / "results/report/index.html")
    cells = browser.execute_script(OVERVIEW_CELLS)
    assert len(cells) >= 20
    for run, key, shown in cells:
        expected = expected_value(study_dir, run, key)
        assert shown == ("n/a" if expected is None else f"{expected:.4f}"), (run, key)
    save_screenshot(browser, "report-overview.png")


# The visible rows of the n-th overview table: (run, the given column's data-value or its text).
VISIBLE_ROWS = (
    "const table = document.querySelectorAll('table.sortable[data-filter=\"overview\"]')[arguments[0]];"
    "return Array.from(table.tBodies[0].rows).filter(row => !row.hidden)"
    ".map(row => [row.cells[0].innerText, row.cells[arguments[1]].dataset.value ?? row.cells[arguments[1]].innerText])"
)


def test_overview_sorts_by_a_clicked_header_and_filters_by_typed_words(browser, study_dir):
    from selenium.webdriver.common.by import By

    open_page(browser, study_dir / "results/report/index.html")
    tables = browser.find_elements(By.CSS_SELECTOR, 'table.sortable[data-filter="overview"]')
    sizes = [len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) for table in tables]
    position = sizes.index(max(sizes))
    headers = tables[position].find_elements(By.CSS_SELECTOR, "thead th")
    accuracy = [header.text for header in headers].index("accuracy")
    headers[accuracy].click()
    ascending = [float(value) for _, value in browser.execute_script(VISIBLE_ROWS, position, accuracy)]
    assert len(ascending) >= 3 and ascending == sorted(ascending), ascending
    headers[accuracy].click()
    descending = [float(value) for _, value in browser.execute_script(VISIBLE_ROWS, position, accuracy)]
    assert descending == sorted(ascending, reverse=True)
    headers[0].click()
    names = [run for run, _ in browser.execute_script(VISIBLE_ROWS, position, 0)]
    assert names == sorted(names) and headers[0].get_attribute("aria-sort") == "ascending"

    browser.find_element(By.CSS_SELECTOR, 'input[data-filter="overview"]').send_keys("seed1 gender")
    kept = browser.execute_script(VISIBLE_ROWS, position, accuracy)
    assert kept and all(run.startswith("gender_seeds__seed1") for run, _ in kept), kept
    visible = browser.execute_script(
        "return Array.from(document.querySelectorAll('table.overview tbody tr')).filter(row => !row.hidden)"
        "  .filter(row => row.closest('table').dataset.filter === 'overview').map(row => row.cells[0].innerText)"
    )
    assert "gender_seeds__seed1" in visible and all("seed1" in run for run in visible), visible
    shown = browser.find_element(By.CSS_SELECTOR, 'span.shown[data-filter="overview"]').text
    assert shown == f"{len(visible)} of {sum(sizes)} rows shown"
    hidden_groups = browser.execute_script("return document.querySelectorAll('details.group[hidden]').length")
    assert hidden_groups >= 1, "the regression table holds no seed1 run and is hidden"
    save_screenshot(browser, "report-overview-filtered.png")


COMPUTE_ROWS = (
    "return Array.from(document.querySelectorAll('table.sortable[data-filter=\"compute\"] tbody tr'))"
    ".map(row => Array.from(row.cells).map(cell => cell.dataset.value ?? cell.innerText))"
)


def test_compute_table_shows_each_runs_accounting_from_its_run_json(browser, study_dir):
    open_page(browser, study_dir / "results/report/index.html")
    rows = browser.execute_script(COMPUTE_ROWS)
    assert len(rows) >= 5
    for run, node, job, wait, seconds, gpus, gpu_hours, cpus, cpu_hours, rate, memory in rows:
        info = json.loads((study_dir / f"results/runs/{run}/run.json").read_text())
        compute = info["compute"]
        assert node == info["host"] and int(cpus) == compute["cpu_count"] == info["threads"], run
        assert float(seconds) == compute["wall_seconds"] > 0 and float(cpu_hours) == compute["cpu_hours"] > 0, run
        assert (int(gpus), float(gpu_hours), job, wait) == (0, 0.0, "", "n/a"), "a local run on a machine with no GPU"
        assert float(rate) > 0 and 100 < float(memory) < 100_000, run
    assert "GPU-hours 0.000" in browser.find_element("tag name", "body").text


def test_every_run_page_opens_from_its_link_with_all_figures_loaded(browser, study_dir):
    from selenium.webdriver.common.by import By

    open_page(browser, study_dir / "results/report/index.html")
    links = sorted({link.get_attribute("href") for link in browser.find_elements(By.CSS_SELECTOR, "td.name a")})
    assert [link.rsplit("/", 1)[1] for link in links] == [
        "age_regression.html",
        "both_multitask.html",
        "gender_cnn.html",
        "gender_cnn_csv__imported.html",
        "gender_cnn_female_only__imported.html",
        "gender_cnn_file__external.html",
        "gender_mitigation__mitadversarial.html",
        "gender_mitigation__mitgroup_dro.html",
        "gender_mitigation__mitmmd.html",
        "gender_seeds__seed0.html",
        "gender_seeds__seed0__post_threshold_optimizer_equalized_odds.html",
        "gender_seeds__seed1.html",
        "gender_seeds__seed1__post_threshold_optimizer_equalized_odds.html",
    ]
    for link in links:
        browser.get(link)
        assert browser.title.startswith("faceaudit run")
        # Training curves (none for a model trained elsewhere) and group figures; classifiers also have confusion
        # matrices and ROC curves.
        curves = 0 if link.endswith(("__imported.html", "__external.html")) else 1
        assert browser.execute_script("return document.images.length") >= (1 if "regression" in link else 3) + curves
        assert browser.execute_script(BROKEN_IMAGES) == 0, link
        if link.endswith("/gender_cnn.html"):  # a binary classifier: each eval set has these sections and figures
            headings = {heading.text for heading in browser.find_elements(By.TAG_NAME, "h3")}
            assert {"Calibration", "Decision thresholds", "Worst subgroups"} <= headings, link
            assert browser.find_elements(By.CSS_SELECTOR, 'img[alt="reliability diagram: gender by group"]'), link
    assert save_screenshot(browser, "report-run-page.png").stat().st_size > 10_000


PAGE_WIDTHS = "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def test_no_page_is_wider_than_a_1400_pixel_window(browser, study_dir):
    browser.set_window_size(1400, 1000)
    pages = [study_dir / "results/report/index.html", *sorted((study_dir / "results/report/runs").glob("*.html"))]
    for page in pages:
        open_page(browser, page)
        scrolled, visible = browser.execute_script(PAGE_WIDTHS)
        assert scrolled <= visible, f"{page.name} is {scrolled} px wide in a {visible} px window"


# Each row styled as a finding: its table's header texts and its own cells' texts.
FLAGGED_ROWS = """return Array.from(document.querySelectorAll('tr.flagged')).map(row => [
  Array.from(row.closest('table').querySelectorAll('th')).map(cell => cell.innerText.trim()),
  Array.from(row.cells).map(cell => cell.innerText.trim()),
]);"""
SECONDARY_COLOURS = "return Array.from(document.querySelectorAll('.secondary')).map(e => getComputedStyle(e).color)"
# For each table with a "flag" column: whether that column's header lies within its frame's visible width.
FLAG_COLUMNS_VISIBLE = """return Array.from(document.querySelectorAll('table')).flatMap(table => {
  const header = Array.from(table.querySelectorAll('th')).find(cell => cell.innerText.trim() === 'flag');
  if (!header || !table.closest('.frame')) return [];
  return [header.getBoundingClientRect().right <= table.closest('.frame').getBoundingClientRect().right + 1];
});"""
# What a row styled as a finding says of its adjusted test where its table has no adjusted p: a comparison's verdict.
ADJUSTED_VERDICTS = ("distinguishable from zero", "levelling", "lost", "gained")


def adjusted_p_below_5_percent(headers: list[str], cells: list[str]) -> bool:
    column = next(index for index, header in enumerate(headers) if "adjusted p" in header)
    text = cells[column]
    return text == "< 0.001" or float(text) < 0.05


def test_only_adjusted_findings_are_styled_as_findings_and_flags_need_no_scrolling(browser, study_dir):
    """Issue 21: a shaded row is one whose adjusted test says so; every unadjusted interval is greyed; at 1,400 px
    the seeds' and comparisons' flag columns are in view without scrolling their tables."""
    browser.set_window_size(1400, 1000)
    pages = [study_dir / "results/report/index.html", *sorted((study_dir / "results/report/runs").glob("*.html"))]
    secondary_seen = 0
    for page in pages:
        open_page(browser, page)
        for headers, cells in browser.execute_script(FLAGGED_ROWS):
            if any("adjusted p" in header for header in headers):
                assert adjusted_p_below_5_percent(headers, cells), (page.name, cells)
            else:
                assert any(verdict in cell for cell in cells for verdict in ADJUSTED_VERDICTS), (page.name, cells)
        colours = browser.execute_script(SECONDARY_COLOURS)
        assert set(colours) <= {"rgb(136, 136, 136)"}, (page.name, set(colours))
        secondary_seen += len(colours)
        assert all(browser.execute_script(FLAG_COLUMNS_VISIBLE)), page.name
    assert secondary_seen > 0


# Names as a study may have them: a class that closes a <script> element and adds an image whose error handler
# would retitle the page, a class with mathtext's dollar signs, a group called "Others" next to one with markup.
INJECTED_TITLE = "INJECTED"
SCRIPT_CLASS = f"</script><img src=x onerror=document.title=/{INJECTED_TITLE}/.source>"
MARKUP_GROUP = "A & <b>B</b>"
MARKUP_STUDY = {
    "seed": 1,
    "audit": {"bootstrap_resamples": 20},
    "datasets": {
        "faces": {
            "layout": "synthetic",
            "synthetic": {
                "n_images": 60,
                "image_size": 32,
                "seed": 2,
                "groups": [{"name": "Others", "share": 0.5}, {"name": MARKUP_GROUP, "share": 0.5}],
            },
            "labels": {
                "gender": [SCRIPT_CLASS, "Male $x$"],
                "age": TINY_STUDY["datasets"]["faces"]["labels"]["age"],
                "group": ["Others", MARKUP_GROUP],
            },
            "sensitive_attributes": ["group"],
            "privileged_groups": {"group": MARKUP_GROUP},
        }
    },
    "experiments": {
        "gender_mlp": {
            "dataset": "faces",
            "targets": ["gender"],
            "model": "mlp",
            "image": {"size": 8, "color": "gray"},
            "epochs": 1,
            "batch_size": 16,
        }
    },
}


@pytest.fixture(scope="module")
def markup_study(tmp_path_factory) -> Path:
    """The markup study run, then Snakemake's own report of it written (report.zip) and unpacked."""
    workdir = tmp_path_factory.mktemp("markup-study")
    write_config(workdir, MARKUP_STUDY)
    run_snakemake(workdir)
    run_snakemake(workdir, "--report", "report.zip")
    with zipfile.ZipFile(workdir / "report.zip") as archive:
        archive.extractall(workdir / "snakemake-report")
    return workdir


def test_snakemake_report_runs_no_script_from_class_names(browser, markup_study):
    unpacked = markup_study / "snakemake-report"
    (snakemake_page,) = unpacked.glob("*/report.html")
    open_page(browser, snakemake_page)
    assert browser.title == "Snakemake Report"
    assert browser.execute_script("return typeof results") == "object", "the report's data script ran whole"
    assert SCRIPT_CLASS not in snakemake_page.read_text(), "no name from the data is among the embedded params"
    (carried_index,) = unpacked.glob("*/data/raw/*/index.html")
    open_page(browser, carried_index)
    assert browser.title == "faceaudit report"
    assert SCRIPT_CLASS in browser.find_element("tag name", "body").text


def test_our_report_shows_names_with_markup_as_text(browser, markup_study):
    report = markup_study / "results/report"
    for page in (report / "index.html", report / "runs/gender_mlp.html"):
        open_page(browser, page)
        assert INJECTED_TITLE not in browser.title
        assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"], b').length") == 0
        text = browser.find_element("tag name", "body").text
        assert SCRIPT_CLASS in text and MARKUP_GROUP in text, page.name
    assert f"all other groups vs {MARKUP_GROUP} (privileged)" in text
    assert "Male $x$" in text
    save_screenshot(browser, "report-markup-names.png")
