"""The face VAE: published encoder/decoder sizes, training on real images, the two PNG grids, saving and loading."""

import keras
import numpy as np
import pytest
from face_images import draw_faces, load_faces
from PIL import Image

from faceaudit.models import vae
from faceaudit.training import vae_figures
from faceaudit.training.vae_run import train_vae


def test_encoder_and_decoder_have_the_published_sizes():
    model = vae.build_vae((32, 32, 1))

    assert model.encoder.count_params() == 58_772
    assert model.decoder.count_params() == 45_569
    assert [tuple(output.shape) for output in model.encoder.outputs] == [(None, 10)] * 3
    assert model.decoder.output_shape == (None, 32, 32, 1)
    assert isinstance(model.encoder.get_layer("z"), vae.Sampling)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"input_shape": (32, 32, 1), "latent_size": 4}, "latent_size must be at least 5, got 4"),
        ({"input_shape": (30, 30, 1)}, r"multiples of 8 and at least 24, got input shape \(30, 30, 1\)"),
        ({"input_shape": (32, 32, 1), "reconstruction_loss": "l1"}, "unknown reconstruction loss 'l1'"),
    ],
)
def test_bad_vae_settings_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        vae.build_vae(**arguments)


@pytest.mark.parametrize(("color", "reconstruction_loss"), [("gray", "bce"), ("rgb", "mse")])
def test_vae_trains_on_faces_writes_both_grids_and_reloads(color, reconstruction_loss, tmp_path):
    images = load_faces(draw_faces(tmp_path / "faces", count=8), 32, color)
    model = vae.build_vae(images.shape[1:], latent_size=6, reconstruction_loss=reconstruction_loss, seed=1)

    history = train_vae(model, images, epochs=2, batch_size=4, validation_images=images[:4])
    vae_figures.write_sample_grid(model, tmp_path / "samples.png")
    vae_figures.write_reconstruction_grid(model, images[:6], tmp_path / "reconstructions.png")
    model.save(tmp_path / "vae.keras")
    reloaded = keras.models.load_model(tmp_path / "vae.keras")

    assert set(history.history) == {
        "loss",
        "reconstruction_loss",
        "kl_loss",
        "val_loss",
        "val_reconstruction_loss",
        "val_kl_loss",
    }
    assert all(np.isfinite(values).all() for values in history.history.values())
    np.testing.assert_allclose(
        history.history["loss"], np.add(history.history["reconstruction_loss"], history.history["kl_loss"]), rtol=1e-5
    )
    reconstructions = vae_figures.reconstruct(model, images)
    assert reconstructions.shape == images.shape and 0.0 <= reconstructions.min() and reconstructions.max() <= 1.0
    np.testing.assert_array_equal(vae_figures.reconstruct(reloaded, images), reconstructions)
    np.testing.assert_array_equal(vae_figures.sample_faces(reloaded, seed=3), vae_figures.sample_faces(model, seed=3))
    assert vae_figures.sample_faces(model).shape == (10, 32, 32, images.shape[-1])
    for grid in ("samples.png", "reconstructions.png"):
        with Image.open(tmp_path / grid) as png:
            assert png.format == "PNG" and png.width >= 500 and png.height >= 200
