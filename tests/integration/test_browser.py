"""The report in a real browser: headless Chromium opens it from disk, every figure loads, the numbers it shows
equal the metrics files, and screenshots are kept as test artifacts (test-artifacts/)."""

import json
import os
import shutil
from pathlib import Path

import pytest

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
    if metric not in ("accuracy_gap", "mae_spread", "disparate_impact_min"):
        return metrics.get(metric)
    fairness = json.loads((study_dir / f"results/runs/{run}/fairness/{eval_set}.json").read_text())[target]
    audits = [audit for attribute, audit in fairness.items() if attribute != "skipped_attributes"]
    if metric != "disparate_impact_min":
        gaps = [audit[metric] for audit in audits if metric in audit]
        return max(gaps) if gaps else None
    impacts = [scores["disparate_impact"] for audit in audits for scores in audit.get("vs_rest", {}).values()]
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


def test_every_run_page_opens_from_its_link_with_all_figures_loaded(browser, study_dir):
    from selenium.webdriver.common.by import By

    open_page(browser, study_dir / "results/report/index.html")
    links = sorted({link.get_attribute("href") for link in browser.find_elements(By.CSS_SELECTOR, "td.name a")})
    assert [link.rsplit("/", 1)[1] for link in links] == [
        "age_regression.html",
        "both_multitask.html",
        "gender_cnn.html",
    ]
    for link in links:
        browser.get(link)
        assert browser.title.startswith("faceaudit run")
        # Training curves and group figures; classifiers also have confusion matrices and ROC curves.
        assert browser.execute_script("return document.images.length") >= (2 if "regression" in link else 4)
        assert browser.execute_script(BROKEN_IMAGES) == 0, link
    assert save_screenshot(browser, "report-run-page.png").stat().st_size > 10_000
