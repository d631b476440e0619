"""Variational autoencoder for faces (after keras-io examples/generative/vae.py): a convolutional encoder to a latent
Gaussian and a deconvolutional decoder (faceaudit.training.vae_run trains it, vae_figures draws its faces).

On 32x32x1 with latent size 10 the encoder has 58,772 parameters and the decoder 45,569, the published counts.
Images go in as pixels in `pixel_range`; the VAE rescales them to [0, 1] itself, and the decoder outputs [0, 1].
"""

import keras
import tensorflow as tf
from keras import layers, ops

RECONSTRUCTION_LOSSES = ("bce", "mse")
MINIMUM_LATENT_SIZE = 5


@keras.saving.register_keras_serializable(package="faceaudit")
class Sampling(layers.Layer):
    """Draws z = z_mean + exp(z_log_var / 2) * epsilon, epsilon ~ N(0, 1) (the reparameterisation trick)."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def build_encoder(input_shape: tuple, latent_size: int = 10, seed: int | None = None) -> keras.Model:
    """[0, 1] images -> (z_mean, z_log_var, z): three conv 3x3 (16, 32, 64) + 2x2 max pool blocks, dense 128."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    z_mean = layers.Dense(latent_size, name="z_mean")(x)
    z_log_var = layers.Dense(latent_size, name="z_log_var")(x)
    z = Sampling(seed, name="z")([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")


def build_decoder(output_shape: tuple, latent_size: int = 10) -> keras.Model:
    """z -> [0, 1] images: dense 32, dense to an (height/8, width/8, 32) map, then three stride-2 3x3 deconvolutions
    (32, 64, then one filter per image channel with a sigmoid)."""
    height, width, channels = output_shape
    latent = keras.Input(shape=(latent_size,), name="z")
    x = layers.Dense(32, activation="relu")(latent)
    x = layers.Dense((height // 8) * (width // 8) * 32, activation="relu")(x)
    x = layers.Reshape((height // 8, width // 8, 32))(x)
    for filters in (32, 64):
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
    outputs = layers.Conv2DTranspose(
        channels, 3, strides=2, padding="same", activation="sigmoid", name="reconstruction"
    )(x)
    return keras.Model(latent, outputs, name="decoder")


@keras.saving.register_keras_serializable(package="faceaudit")
class VAE(keras.Model):
    """Trained with `fit(images)` (labels, if the data carry any, are ignored); loss = reconstruction + KL divergence,
    reported as loss, reconstruction_loss and kl_loss. Calling it reconstructs images from z_mean."""

    def __init__(
        self,
        encoder,
        decoder,
        reconstruction_loss: str = "bce",
        pixel_range: tuple[float, float] = (0.0, 255.0),
        **kwargs,
    ):
        super().__init__(**kwargs)
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(
                f"unknown reconstruction loss '{reconstruction_loss}'; use one of {list(RECONSTRUCTION_LOSSES)}"
            )
        self.encoder, self.decoder = encoder, decoder
        self.reconstruction_loss = reconstruction_loss
        self.pixel_range = tuple(float(value) for value in pixel_range)
        low, high = self.pixel_range
        span = high - low if high > low else 1.0
        self.scaling = layers.Rescaling(1.0 / span, offset=-low / span, name="min_max_scaling")
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        self.built = True  # encoder and decoder are built functional models

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, images):
        z_mean, _, _ = self.encoder(self.scaling(images))
        return self.decoder(z_mean)

    def compute_losses(self, images):
        scaled = self.scaling(ops.cast(images, "float32"))
        z_mean, z_log_var, z = self.encoder(scaled)
        reconstruction = self.decoder(z)
        if self.reconstruction_loss == "bce":
            per_pixel = keras.losses.binary_crossentropy(scaled, reconstruction)  # mean over channels
        else:
            per_pixel = ops.mean(ops.square(scaled - reconstruction), axis=-1)
        reconstruction_loss = ops.mean(ops.sum(per_pixel, axis=(1, 2)))
        kl_loss = ops.mean(ops.sum(-0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var)), axis=1))
        return reconstruction_loss + kl_loss, reconstruction_loss, kl_loss

    def update_trackers(self, total_loss, reconstruction_loss, kl_loss) -> dict:
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        images = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            losses = self.compute_losses(images)
        gradients = tape.gradient(losses[0], self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self.update_trackers(*losses)

    def test_step(self, data):
        images = data[0] if isinstance(data, tuple) else data
        return self.update_trackers(*self.compute_losses(images))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "reconstruction_loss": self.reconstruction_loss,
            "pixel_range": list(self.pixel_range),
        }

    @classmethod
    def from_config(cls, config):
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


def build_vae(
    input_shape: tuple,
    latent_size: int = 10,
    reconstruction_loss: str = "bce",
    pixel_range: tuple[float, float] = (0.0, 255.0),
    seed: int | None = None,
) -> VAE:
    """An uncompiled VAE for (height, width, channels) images; height and width must be multiples of 8 and >= 24."""
    height, width, _ = input_shape
    if height % 8 or width % 8 or min(height, width) < 24:
        raise ValueError(
            "the VAE needs height and width that are multiples of 8 and at least 24, "
            f"got input shape {tuple(input_shape)}"
        )
    if latent_size < MINIMUM_LATENT_SIZE:
        raise ValueError(f"latent_size must be at least {MINIMUM_LATENT_SIZE}, got {latent_size}")
    return VAE(
        build_encoder(input_shape, latent_size, seed),
        build_decoder(input_shape, latent_size),
        reconstruction_loss,
        pixel_range,
        name="vae",
    )
