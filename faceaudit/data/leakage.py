"""Whether copies across splits are leakage. An exact copy of an earlier split's image always is. A near copy may be
a genuinely different image that looks alike (at 16-32 px many faces do), so near copies are judged against the
dataset's own similarity: if the held-out images were drawn like the earlier split's images, one of them would have a
near copy there about as often as an image of that split has one among the split's other images. The held-out
near-copy rate is compared with that within-split rate by a one-sided Fisher exact test, and only a rate clearly
above it (Bonferroni over the split pairs) is flagged as possible leakage."""

from scipy import stats

EXCESS = "excess"  # more near copies than the dataset's own similarity predicts: possible leakage
EXPECTED = "expected"  # near copies at about the rate the within-split similarity predicts
NONE = "none"  # no held-out image has a near copy
NO_BASELINE = "no_baseline"  # near copies, but the earlier split has fewer than two images to compare with
LEVEL = 0.95  # of the intervals shown for each rate


def judge_leakage(summaries: list[dict], alpha: float) -> list[dict]:
    """The summaries of find_duplicates, each split pair across splits given `exact_leak` and `near_copies` (the
    held-out rate, the baseline rate within the earlier split, the test and its verdict); alpha is family-wise over
    the split pairs whose both splits have images."""
    within = {summary["splits"][0]: summary for summary in summaries if is_within(summary)}
    across = [summary for summary in summaries if not is_within(summary)]
    compared = [summary for summary in across if summary["images"] and within[summary["splits"][0]]["images"] >= 2]
    alpha_per_pair = alpha / max(len(compared), 1)
    for summary in across:
        summary["exact_leak"] = summary["images_with_exact_copy"] > 0
        summary["near_copies"] = near_copy_judgement(summary, within[summary["splits"][0]], alpha_per_pair)
    return summaries


def is_within(summary: dict) -> bool:
    return summary["splits"][0] == summary["splits"][1]


def near_copy_judgement(held_out: dict, baseline: dict, alpha: float) -> dict:
    """Held-out images with a near copy in the earlier split against that split's images with a near copy among its
    own other images (a leave-one-out rate: the same number of images to match against, less one)."""
    count, images = held_out["images_with_near_copy"], held_out["images"]
    baseline_count, baseline_images = baseline["images_with_near_copy"], baseline["images"]
    p_value = None
    if count == 0:
        verdict = NONE
    elif baseline_images < 2:
        verdict = NO_BASELINE
    else:
        table = [[count, images - count], [baseline_count, baseline_images - baseline_count]]
        p_value = float(stats.fisher_exact(table, alternative="greater").pvalue)
        verdict = EXCESS if p_value < alpha else EXPECTED
    return {
        "verdict": verdict,
        "images": images,
        "with_near_copy": count,
        **rate_with_interval(count, images),
        "baseline": {
            "split": baseline["splits"][0],
            "images": baseline_images,
            "with_near_copy": baseline_count,
            **rate_with_interval(baseline_count, baseline_images),
        },
        "p_value": p_value,
        "alpha": alpha,
    }


def rate_with_interval(count: int, total: int) -> dict:
    """The share and its Wilson interval (None for no images)."""
    if total == 0:
        return {"rate": None, "low": None, "high": None}
    interval = stats.binomtest(count, total).proportion_ci(LEVEL, method="wilson")
    return {"rate": count / total, "low": float(interval.low), "high": float(interval.high)}
