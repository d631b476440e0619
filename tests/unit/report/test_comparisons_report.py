"""The report's comparisons, from real comparison files of drawn runs: what a reader would conclude."""

import html
import json
import re

from faceaudit.bench.comparisons import DrawnEvalSet, compared
from faceaudit.evaluation.comparisons import compare_configurations
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.report.comparisons import comparisons_section
from faceaudit.report.render import render


def section_of(tmp_path, comparison: dict) -> dict:
    path = tmp_path / "test.json"
    named = {"configuration": "exp__post_fair", "baseline": "exp", "how": "post-processed from the baseline's runs"}
    path.write_text(json.dumps(named | comparison))
    return comparisons_section({"exp__post_fair": {"test": path}})


def levelled_down(tmp_path):
    drawn = DrawnEvalSet(0)
    baseline = drawn.trained("exp", 3)
    comparison = compared(drawn.post_processed(baseline, spoil={"A": 0.15, "B": 0.15}), baseline, 200, paired=True)
    return comparison, section_of(tmp_path, comparison)


def test_the_verdict_comes_first_and_names_who_lost(tmp_path):
    comparison, section = levelled_down(tmp_path)
    page = render("comparisons.html", {"comparisons": section})

    verdict_at, changes_at = page.index("levelling down</td>"), page.index("The changes behind the verdicts")
    assert verdict_at < changes_at
    assert "worst served by the baseline: C" in html.unescape(page) and "lost: A, B" in page
    assert "exp__post_fair minus exp: label on test" in page


def test_only_changes_distinguishable_after_adjustment_are_styled_as_findings(tmp_path):
    comparison, section = levelled_down(tmp_path)
    changes = render("comparisons.html", {"comparisons": section}).split("The changes behind the verdicts")[1]
    rows = section["entries"][0]["changes"]

    flagged_rows = re.findall(r'<tr class="flagged">(.*?)</tr>', changes)
    assert len(flagged_rows) == sum(row["flagged"] for row in rows) > 0
    assert all(row["adjusted_p_value"] < 0.05 for row in rows if row["flagged"])
    unadjusted_excluding_zero = [row for row in rows if row["ci"] and not row["ci"][0] <= 0 <= row["ci"][1]]
    assert len(unadjusted_excluding_zero) > len(flagged_rows), "some unadjusted intervals exclude 0 without a flag"
    assert changes.count('<td class="secondary">') == len([row for row in rows if not row["reason"]])


def test_the_method_and_the_verdicts_are_described_in_the_files_own_words(tmp_path):
    comparison, section = levelled_down(tmp_path)
    page = html.unescape(re.sub(r"<[^>]+>", "", render("comparisons.html", {"comparisons": section})))

    assert comparison["method"] in page
    for verdict, meaning in comparison["verdicts_explained"].items():
        assert f"{verdict}: {meaning}." in page


def test_the_model_card_lists_the_verdict_and_every_flagged_change(tmp_path):
    comparison, section = levelled_down(tmp_path)
    lines = section["card_lines"]["exp__seed1__post"]
    flagged = flags_in(comparison["targets"]["label"]["attributes"]) + flags_in(
        comparison["targets"]["label"]["overall"]
    )

    assert lines[0].startswith("[test] compared with exp (post-processed")
    assert any("groups of group, accuracy: levelling down" in line for line in lines)
    assert flagged > 0 and len([line for line in lines if "changed by" in line]) == flagged


def flags_in(node: dict) -> int:
    """Changes distinguishable from zero after adjustment, in the comparison file itself."""
    own = node.get("distinguishable_from_zero") is True
    return own + sum(flags_in(value) for value in node.values() if isinstance(value, dict))


def test_two_runs_trained_once_say_that_retraining_is_not_covered(tmp_path):
    drawn = DrawnEvalSet(1)
    comparison = compared(drawn.trained("method", 1), drawn.trained("exp", 1), 200)
    page = render("comparisons.html", {"comparisons": section_of(tmp_path, comparison)})

    assert "the interval covers the test rows only, not retraining" in page


def test_the_page_names_holm_only_where_the_file_records_holm(tmp_path):
    drawn = DrawnEvalSet(2)
    baseline = drawn.trained("exp", 2)
    pages = {}
    for method in ("holm", "bh"):
        comparison = compare_configurations(
            drawn.post_processed(baseline, spoil={"A": 0.1}),
            baseline,
            {"label": ["no", "yes"]},
            ["group"],
            {"label": "yes"},
            settings=AuditSettings(resamples=100, multiple_comparisons=method),
            paired=True,
        )
        folder = tmp_path / method
        folder.mkdir()
        pages[method] = render("comparisons.html", {"comparisons": section_of(folder, comparison)})

    assert "Holm" in pages["holm"] and "holm adjustment" in pages["holm"]
    assert "Holm" not in pages["bh"] and "bh adjustment" in pages["bh"]
