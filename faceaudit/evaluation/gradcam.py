"""Grad-CAM (Selvaraju et al., 2017): where in the image a convolutional model looked for the class it predicted.

The feature maps A_k of the last convolutional layer are weighted by the mean gradient of the class score over each
map, alpha_k = mean_ij dy/dA_k(i, j); the heatmap is ReLU(sum_k alpha_k A_k), resized to the image and scaled to a
maximum of 1 per image (all zeros where nothing speaks for the class). The "last convolutional layer" is the model's
last Conv2D, or its backbone (a nested model with a 4-D output) for transfer models; a model without one (mlp) has
no Grad-CAM.
"""

from __future__ import annotations

import numpy as np


def last_convolutional_layer(model):
    """The last top-level layer that outputs feature maps: a Conv2D or a nested model (backbone); None without."""
    from keras import layers

    for layer in reversed(model.layers):
        if isinstance(layer, layers.Conv2D):
            return layer
        if hasattr(layer, "layers") and len(layer.output.shape) == 4:
            return layer
    return None


def gradcam_heatmaps(model, images: np.ndarray, target: str, class_indices: np.ndarray, batch_size: int = 64):
    """One heatmap per image (N x height x width, 0..1) for the class given per image (its index in the target's
    score columns), from the model's output named `target`; None where the model has no convolutional layer."""
    import keras
    import tensorflow as tf

    layer = last_convolutional_layer(model)
    if layer is None:
        return None
    outputs = model.output if isinstance(model.output, dict) else dict(zip(model.output_names, model.outputs))
    if target not in outputs:
        raise ValueError(f"the model has no output named {target!r} (its outputs: {sorted(outputs)})")
    probe = keras.Model(model.inputs, [output_in_model(layer), outputs[target]])
    heatmaps = []
    for start in range(0, len(images), batch_size):
        batch = tf.convert_to_tensor(np.asarray(images[start : start + batch_size]), dtype=tf.float32)
        classes = np.asarray(class_indices[start : start + batch_size])
        heatmaps.append(batch_heatmaps(probe, batch, classes, images.shape[1:3]))
    return np.concatenate(heatmaps) if heatmaps else np.zeros((0, *images.shape[1:3]), dtype=np.float32)


def output_in_model(layer):
    """The layer's output in the model that calls it. A nested model's `output` is that of its own graph, which the
    outer model's inputs do not reach; its call in the outer model is its last inbound node (Keras keeps no public
    handle on it)."""
    if hasattr(layer, "layers"):
        return layer._inbound_nodes[-1].output_tensors[0]
    return layer.output


def batch_heatmaps(probe, batch, classes: np.ndarray, size) -> np.ndarray:
    import tensorflow as tf

    with tf.GradientTape() as tape:
        feature_maps, scores = probe(batch, training=False)
        scores = class_columns(scores, len(classes))
        chosen = tf.gather(scores, classes, axis=1, batch_dims=1)
    gradients = tape.gradient(chosen, feature_maps)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    maps = tf.nn.relu(tf.reduce_sum(weights * feature_maps, axis=-1))
    resized = tf.image.resize(maps[..., None], size, method="bilinear")[..., 0].numpy()
    peaks = resized.max(axis=(1, 2), keepdims=True)
    return np.where(peaks > 0, resized / np.where(peaks > 0, peaks, 1.0), 0.0).astype(np.float32)


def class_columns(scores, rows: int):
    """Score columns per class: a one-unit sigmoid output p becomes [1 - p, p], as in faceaudit.models.class_scores."""
    import tensorflow as tf

    scores = tf.reshape(tf.cast(scores, tf.float32), (rows, -1))
    if scores.shape[-1] == 1:
        return tf.concat([1.0 - scores, scores], axis=1)
    return scores
