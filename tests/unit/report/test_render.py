"""Writing the report's pages: the table-row and figure markup, and run pages written by worker processes."""

from markupsafe import Markup, escape

from faceaudit.bench.report import DATASET, study_config, write_study
from faceaudit.report import report_files, write_report
from faceaudit.report.render import TEMPLATES, data_uri


def test_a_figure_source_is_written_as_autoescape_would_write_it():
    source = "data:image/png;base64,iVBORw0KGgo+/AAA="
    assert data_uri(source) == source and isinstance(data_uri(source), Markup)
    hostile = 'data:image/png;base64,x" onerror="alert(1)<b>&'
    assert data_uri(hostile) == escape(hostile)
    assert '"' not in data_uri(hostile) and "<" not in data_uri(hostile)


def test_rows_of_cells_grey_insufficient_data_flag_rows_and_escape_every_text():
    rows = TEMPLATES.from_string('{% import "macros.html" as m %}{{ m.cells_rows(rows, names, "flagged") }}').render(
        names=["comparison", "measure"],
        rows=[
            {
                "comparison": "A <b>",
                "measure": "accuracy",
                "flagged": True,
                "cells": [{"text": "0.5", "reason": None, "secondary": "[0.400, 0.600]"}],
            },
            {
                "comparison": "B",
                "measure": "TPR",
                "flagged": False,
                "cells": [{"text": "insufficient data", "reason": 'only 3 rows < 30 "min"', "secondary": None}],
            },
        ],
    )
    assert rows == (
        '<tr class="flagged"><td class="name">A &lt;b&gt;</td><td class="name">accuracy</td>'
        '<td>0.5 <span class="secondary">[0.400, 0.600]</span></td></tr>\n'
        '<tr><td class="name">B</td><td class="name">TPR</td>'
        '<td class="insufficient" title="only 3 rows &lt; 30 &#34;min&#34;">insufficient data</td></tr>\n'
    )


def test_run_pages_written_by_two_worker_processes_are_those_written_in_one(tmp_path):
    specs = write_study(tmp_path / "results", runs=3, distinct=1)
    files = report_files(specs, {}, [DATASET], root=tmp_path / "results")
    for workers in (1, 2):
        write_report(specs, study_config(), {"python": "3.11"}, files, tmp_path / f"report_{workers}", workers=workers)
    pages = sorted(path.name for path in (tmp_path / "report_1/runs").glob("*.html"))
    assert pages == sorted(f"{name}.html" for name in specs)
    for page in pages:
        here, in_workers = (tmp_path / f"report_{workers}/runs" / page for workers in (1, 2))
        assert in_workers.read_text() == here.read_text(), page
    assert "Worst subgroups" in (tmp_path / "report_2/runs" / pages[0]).read_text()
