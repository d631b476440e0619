"""How the report speaks of a gap tested against zero: only the p-value adjusted over the audit's whole family of
comparisons (faceaudit.evaluation.multiplicity) decides whether a gap is called distinguishable from zero."""

METHOD_NAMES = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def family_of(by_attribute: dict) -> dict | None:
    """The adjustment of one target's audit: {method, family_size, alpha}, the same in each of its attributes (None
    where the audit has no audited attribute)."""
    return next(
        (audit.get("multiple_comparisons") for name, audit in by_attribute.items() if name != "skipped_attributes"),
        None,
    )


def adjustment_text(family: dict) -> str:
    """E.g. "distinguishable from zero after Holm adjustment (family of 24 comparisons)"."""
    size = family["family_size"]
    comparisons = f"family of {size} comparison{'' if size == 1 else 's'}"
    method = METHOD_NAMES.get(family["method"])
    if method is None:
        return f"distinguishable from zero at p < {family['alpha']:g}, without adjustment ({comparisons})"
    return f"distinguishable from zero after {method} adjustment ({comparisons})"


def family_sentence(target: str, family: dict) -> str:
    """What the flags of a target's audit mean, in a sentence."""
    if family["family_size"] == 0:
        return f"{target}: no gap could be tested against zero on this eval set (every comparison lacked test rows)."
    method = METHOD_NAMES.get(family["method"])
    adjusted = (
        f"adjusted together by {method}'s method" if method else "not adjusted for multiple comparisons (method none)"
    )
    return (
        f"{target}: {family['family_size']} gaps were tested against zero on this eval set (every group against the "
        f"rest and every aif360 difference, across all attributes); their p-values were {adjusted}, and a gap is "
        f"called distinguishable from zero where its adjusted p-value is below {family['alpha']:g}."
    )


def verdict(holder: dict, metric: str | None = None) -> bool | None:
    """Whether a tested gap is distinguishable from zero after adjustment (None: not tested)."""
    flags = holder.get("distinguishable_from_zero")
    return flags.get(metric) if isinstance(flags, dict) else flags


def of_metric(values, metric: str | None):
    """A comparison's p-value (or adjusted p-value): one number, or one per aif360 metric."""
    return values.get(metric) if isinstance(values, dict) else values
