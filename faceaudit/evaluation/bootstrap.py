"""Bootstrap confidence intervals for rates computed over subsets of a predictions table.

All resamples are drawn at once as a (resamples x rows) matrix of multinomial counts, so the rate of any subset
in every resample is one matrix-vector product: no Python loop over resamples.
"""

import numpy as np


def resample_counts(n_rows: int, resamples: int, seed: int) -> np.ndarray:
    """How often each row is drawn in each resample (rows drawn with replacement, n_rows per resample)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_rows, np.full(n_rows, 1.0 / n_rows), size=resamples).astype(np.float32)


def resampled_rate(counts: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator/denominator (boolean row masks) in every resample; NaN where the denominator is empty."""
    top, bottom = (counts @ np.stack([numerator & denominator, denominator], axis=1).astype(np.float32)).T
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / bottom, np.nan)


def resampled_mean(counts: np.ndarray, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The mean of `values` over the rows selected by a boolean mask, in every resample; NaN where none is drawn."""
    top, bottom = (counts @ np.stack([np.where(rows, values, 0.0), rows], axis=1).astype(np.float32)).T
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / bottom, np.nan)


def interval(samples: np.ndarray, confidence: float = 0.95) -> list[float] | None:
    """Percentile interval of the finite samples, or None when fewer than half of the resamples are defined."""
    finite = samples[np.isfinite(samples)]
    if len(finite) < len(samples) / 2:
        return None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return [float(low), float(high)]
