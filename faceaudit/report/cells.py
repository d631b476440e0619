"""Table cells of the run pages: a formatted value, or "insufficient data" with the reason (greyed, the reason as the
cell's tooltip) where the audit withheld the value because its group had too few test rows. A 95% interval that no
adjustment for the number of comparisons stands behind is `secondary`: greyed after the value, so that an interval
that excludes zero does not read as a finding (only the adjusted tests' flags are styled as findings)."""

from faceaudit.report.render import interval_text, number

INSUFFICIENT = "insufficient data"


def text_cell(text, secondary: str | None = None) -> dict:
    return {"text": str(text), "reason": None, "secondary": secondary}


def insufficient_cell(reason: str) -> dict:
    return {"text": INSUFFICIENT, "reason": reason, "secondary": None}


def rate_cell(value, reason: str | None = None, digits: int = 4) -> dict:
    """A number; a missing one is "insufficient data" where a reason says why it was withheld, n/a where not."""
    if value is None and reason:
        return insufficient_cell(reason)
    return text_cell(number(value, digits))


def interval_cell(interval, reason: str | None = None) -> dict:
    if interval is None and reason:
        return insufficient_cell(reason)
    return text_cell("", interval_text(interval))


def value_and_interval_cell(value, interval, reason: str | None = None, digits: int = 4) -> dict:
    """A value followed by its interval (greyed) in one cell, e.g. 0.1234 [0.050, 0.200]."""
    if value is None and reason:
        return insufficient_cell(reason)
    return text_cell(number(value, digits), interval_text(interval))


def p_value_text(p_value) -> str:
    """A p-value as a reader compares it with 0.05: three significant digits, or < 0.001."""
    if p_value is None:
        return "n/a"
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"
