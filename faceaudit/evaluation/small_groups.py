"""Which rates a group has too few test rows for.

A rate measured on a handful of rows says little, and a gap between two such rates even less. A group (or the
other side of a comparison) below `min_group_size` rows gets no rates at all; one with fewer than `min_positives`
actual positives gets no TPR (nor the metrics built on it), one with fewer actual negatives no FPR.
"""

from dataclasses import dataclass

# What each rate or metric needs of the rows it is computed on.
RATE_NEEDS = {
    "accuracy": ("rows",),
    "error_rate": ("rows",),
    "selection_rate": ("rows",),
    "base_rate": ("rows",),
    "mae": ("rows",),
    "mean_error": ("rows",),
    "tpr": ("rows", "positives"),
    "fpr": ("rows", "negatives"),
    "disparate_impact": ("rows",),
    "statistical_parity_difference": ("rows",),
    "equal_opportunity_difference": ("rows", "positives"),
    "average_odds_difference": ("rows", "positives", "negatives"),
}


@dataclass(frozen=True)
class Minimums:
    """The fewest rows a rate is reported for, and the fewest actual positives (negatives) behind a TPR (FPR)."""

    group_size: int = 1
    positives: int = 0

    def __post_init__(self):
        if self.group_size < 1:
            raise ValueError(f"min_group_size must be at least 1, got {self.group_size}")
        if self.positives < 0:
            raise ValueError(f"min_positives must be at least 0, got {self.positives}")


@dataclass(frozen=True)
class Counts:
    """Rows of one side of a comparison; positives and negatives only where there is a positive class."""

    rows: int
    positives: int | None = None
    negatives: int | None = None


def shortfalls(counts: Counts, minimums: Minimums, positive_class: str | None = None) -> dict[str, str]:
    """The needs (rows, positives, negatives) that these counts miss, each with the reason in words."""
    missing = {}
    if counts.rows < minimums.group_size:
        missing["rows"] = f"{rows(counts.rows)}, fewer than min_group_size {minimums.group_size}"
    if counts.positives is not None and counts.positives < minimums.positives:
        missing["positives"] = (
            f"{rows(counts.positives)} whose true class is {positive_class!r}, fewer than min_positives "
            f"{minimums.positives}"
        )
    if counts.negatives is not None and counts.negatives < minimums.positives:
        missing["negatives"] = (
            f"{rows(counts.negatives)} whose true class is not {positive_class!r}, fewer than min_positives "
            f"{minimums.positives}"
        )
    return missing


def rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def withheld(names, missing: dict[str, str]) -> list[str]:
    """The rates among `names` that need something `missing` names."""
    return [name for name in names if any(need in missing for need in RATE_NEEDS[name])]


def reason_of(missing_by_side: dict[str, dict[str, str]], names) -> str | None:
    """Why the rates `names` are withheld, side by side ("the rest: 12 rows, ..."), or None where none is."""
    reasons = [
        f"{side}: {reason}" if side else reason
        for side, missing in missing_by_side.items()
        for need, reason in missing.items()
        if any(need in RATE_NEEDS[name] for name in names)
    ]
    return "; ".join(reasons) or None
