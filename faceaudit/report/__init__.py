"""Stage 5: the HTML report, built only from the files the earlier stages wrote (the report rule's inputs)."""

from faceaudit.report.pages import write_report
from faceaudit.study.result_files import report_files

__all__ = ["report_files", "write_report"]
