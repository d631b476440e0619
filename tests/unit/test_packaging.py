"""A non-editable install works: the wheel built from the checkout ships every file the library reads (the report's
templates and the script they include), leaves the benchmarks out, and renders a report on its own."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from faceaudit.bench.report import DATASET, study_config, write_study

REPOSITORY = Path(__file__).resolve().parents[2]

# Run against the installed copy alone: PYTHONPATH puts it first, cwd is not the checkout, and the editable install's
# finder (which would find a module the wheel lacks, faceaudit.bench, in the checkout) is taken off the import path.
RENDER = """
import importlib.util, json, sys
sys.meta_path[:] = [finder for finder in sys.meta_path if "__editable__" not in getattr(finder, "__module__", "")]
from pathlib import Path
import faceaudit
from faceaudit.report import report_files, write_report
site, study = Path(sys.argv[1]), Path(sys.argv[2])
assert Path(faceaudit.__file__).is_relative_to(site), faceaudit.__file__
assert importlib.util.find_spec("faceaudit.bench") is None, "the wheel ships the benchmarks"
given = json.loads((study / "study.json").read_text())
files = report_files(given["specs"], {}, [given["dataset"]], root=study / "results")
write_report(given["specs"], given["config"], {"python": "3.11"}, files, study / "report", workers=1)
"""


def pip(*arguments: str, cwd: Path) -> None:
    command = [sys.executable, "-m", "pip", *arguments, "--no-deps", "--no-index", "--disable-pip-version-check"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_the_wheel_ships_what_the_library_reads_and_renders_a_report_without_the_checkout(tmp_path):
    source, site = tmp_path / "source", tmp_path / "site"
    shutil.copytree(REPOSITORY / "faceaudit", source / "faceaudit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPOSITORY / "pyproject.toml", source)
    pip("wheel", "--no-build-isolation", "--no-cache-dir", "--wheel-dir", str(tmp_path / "dist"), ".", cwd=source)
    [wheel] = (tmp_path / "dist").glob("faceaudit-*.whl")
    pip("install", "--target", str(site), str(wheel), cwd=tmp_path)

    data_files = {
        path.relative_to(REPOSITORY)
        for path in (REPOSITORY / "faceaudit").rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "bench" not in path.parts
    }
    assert data_files, "the library reads its report templates from the package"
    assert not [path for path in data_files if not (site / path).is_file()], "package data the wheel leaves out"
    assert not (site / "faceaudit" / "bench").exists()

    specs = write_study(tmp_path / "results", runs=1, distinct=1)
    given = {"specs": specs, "dataset": DATASET, "config": study_config()}
    (tmp_path / "study.json").write_text(json.dumps(given))
    result = subprocess.run(
        [sys.executable, "-c", RENDER, str(site), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    index = (tmp_path / "report" / "index.html").read_text()
    script = (site / "faceaudit/report/templates/table.js").read_text()
    assert script.strip() in index
