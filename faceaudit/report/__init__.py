"""Stage 5: the HTML report, built only from the files the earlier stages wrote."""

from faceaudit.report.pages import write_report

__all__ = ["write_report"]
