"""Stage 5: the HTML report, built only from the files the earlier stages wrote (the report rule's inputs)."""

__all__ = ["report_files", "write_report"]


def __getattr__(name: str):
    """write_report and report_files, imported on first use: the workflow imports faceaudit.report.configuration on
    every snakemake call (-n too), and importing the page code with it (Jinja2, matplotlib, scikit-learn) cost 2 s of
    planning."""
    if name == "write_report":
        from faceaudit.report.pages import write_report

        return write_report
    if name == "report_files":
        from faceaudit.study.result_files import report_files

        return report_files
    raise AttributeError(f"module 'faceaudit.report' has no attribute {name!r}")
