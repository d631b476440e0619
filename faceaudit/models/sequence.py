"""Sequence models for the sine-wave comparison: an MLP, an LSTM and a GRU (16 then 32 units each) that predict the
next value of a series from a window of previous values (faceaudit.training.sine trains and compares them)."""

import keras
from keras import layers


def build_sequence_mlp(window):
    x = layers.Flatten()(window)
    x = layers.Dense(16, activation="relu")(x)
    return layers.Dense(32, activation="relu")(x)


def build_lstm(window):
    x = layers.LSTM(16, return_sequences=True)(window)
    return layers.LSTM(32)(x)


def build_gru(window):
    x = layers.GRU(16, return_sequences=True)(window)
    return layers.GRU(32)(x)


SEQUENCE_BUILDERS = {"sequence_mlp": build_sequence_mlp, "lstm": build_lstm, "gru": build_gru}


def build_sequence_model(name: str, window_length: int, learning_rate: float = 1e-2) -> keras.Model:
    """(window_length, 1) previous values -> the next value; compiled with Adam and MSE (MAE reported)."""
    if name not in SEQUENCE_BUILDERS:
        raise ValueError(f"unknown sequence model '{name}'; known: {sorted(SEQUENCE_BUILDERS)}")
    window = keras.Input(shape=(window_length, 1), name="window")
    next_value = layers.Dense(1, name="next_value")(SEQUENCE_BUILDERS[name](window))
    model = keras.Model(window, next_value, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse", metrics=["mae"])
    return model
