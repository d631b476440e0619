"""Preprocessing benchmark: one core against the floor (DCT-scaled decoding alone) and the scaling across cores."""

import pytest

from faceaudit.bench import preprocess


def test_it_prints_the_share_of_the_floor_and_the_scaling_efficiency(capsys):
    results = preprocess.run(n_images=4, repeats=1, workers=2)

    printed = capsys.readouterr().out
    assert [figures["target"] for figures in results] == ["32px gray", "100px rgb"]
    for figures in results:
        assert figures["dct_decode_only"] > 0 and figures["one_core"] > 0 and figures["all_cores"] > 0
        assert figures["of_floor"] == pytest.approx(figures["one_core"] / figures["dct_decode_only"])
        assert figures["scaling_efficiency"] == pytest.approx(figures["all_cores"] / (2 * figures["one_core"]))
        assert f"= {figures['of_floor']:.0%} of that floor (goal >= 90%)" in printed
        assert f"scaling efficiency {figures['scaling_efficiency']:.0%} (goal >= 85%)" in printed
        assert f"in CPU time {figures['of_floor_cpu']:.0%}" in printed
        steps = figures["cpu_microseconds_per_image"]
        assert list(steps) == ["decode", "resize", "rest of load_image", "writing"] and steps["decode"] > 0
        assert f"CPU microseconds per image on 1 core: decode {steps['decode']:.0f}, resize" in printed
    assert printed.count("load average") == 2
