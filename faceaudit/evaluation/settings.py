"""How a run's predictions are audited: the config's `audit:` block as one value that every audit function takes."""

from dataclasses import dataclass

from faceaudit.evaluation.multiplicity import METHODS

# The config's `audit:` keys, by the field each one sets.
CONFIG_KEYS = {
    "resamples": "bootstrap_resamples",
    "seed": "seed",
    "min_group_size": "min_group_size",
    "min_positives": "min_positives",
    "multiple_comparisons": "multiple_comparisons",
    "calibration_bins": "calibration_bins",
}


@dataclass(frozen=True)
class AuditSettings:
    """`resamples` bootstrap resamples (0: no intervals) drawn with `seed`; `min_group_size` and `min_positives`
    withhold rates measured on too few rows (the config schema's defaults are 30 and 10; here 1 and 0 withhold
    nothing); `multiple_comparisons` (holm, bh or none) adjusts each target's p-values as one family;
    `calibration_bins` confidence bins per binning of the calibration audit."""

    resamples: int = 1000
    seed: int = 0
    min_group_size: int = 1
    min_positives: int = 0
    multiple_comparisons: str = "holm"
    calibration_bins: int = 10

    def __post_init__(self):
        if self.multiple_comparisons not in METHODS:
            raise ValueError(
                f"multiple_comparisons must be one of {', '.join(METHODS)}, got {self.multiple_comparisons!r}"
            )
        if self.calibration_bins < 1:
            raise ValueError(f"calibration needs at least one bin, got bins={self.calibration_bins}")

    @classmethod
    def from_config(cls, audit: dict) -> "AuditSettings":
        """From the config's `audit:` block (or the part a rule passes): the keys it has, defaults for the rest."""
        return cls(**{field: audit[key] for field, key in CONFIG_KEYS.items() if key in audit})


DEFAULT_SETTINGS = AuditSettings()
