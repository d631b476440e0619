"""The sine-wave comparison: MLP, LSTM and GRU predicting the next value of sin(x) from the previous ones."""

import numpy as np
import pytest
from PIL import Image

from faceaudit.models.sequence import build_sequence_model
from faceaudit.training.sine import compare_sine_models, make_sine_data


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("sequence_mlp", 753),  # 10*16+16, 16*32+32, 32+1
        ("lstm", 7_457),  # 4*(16*(1+16)+16), 4*(32*(16+32)+32), 32+1
        ("gru", 5_745),  # 3*(16*(1+16)+2*16), 3*(32*(16+32)+2*32), 32+1 (Keras 3: reset_after)
    ],
)
def test_sequence_models_have_16_then_32_units_and_one_output(name, parameters):
    model = build_sequence_model(name, window_length=10)

    assert model.count_params() == parameters
    assert model.input_shape == (None, 10, 1) and model.output_shape == (None, 1)
    assert model.loss == "mse"


def test_unknown_sequence_model_is_named():
    with pytest.raises(ValueError, match="unknown sequence model 'rnn'"):
        build_sequence_model("rnn", window_length=10)


def test_sine_windows_are_seeded_and_each_is_followed_by_its_target():
    windows, next_values, x = make_sine_data(n_windows=50, window_length=5, seed=3)
    again, _, _ = make_sine_data(n_windows=50, window_length=5, seed=3)

    assert windows.shape == (50, 5, 1) and next_values.shape == (50,) and x.shape == (50,)
    np.testing.assert_array_equal(windows, again)
    np.testing.assert_array_equal(windows[1:, -1, 0], next_values[:-1])
    np.testing.assert_allclose(next_values, np.sin(x), atol=0.25)


def test_comparison_plot_shows_three_models_that_learned_the_wave(tmp_path):
    test_mse = compare_sine_models(tmp_path / "sine.png", epochs=2)

    assert sorted(test_mse) == ["gru", "lstm", "sequence_mlp"]
    assert all(mse < 0.05 for mse in test_mse.values()), test_mse  # sin(x) itself has variance 0.5
    with Image.open(tmp_path / "sine.png") as png:
        assert png.format == "PNG" and png.width >= 600
