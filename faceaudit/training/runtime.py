"""TensorFlow set-up for a run: thread count, seeds and op determinism, precision policy, devices, optimizer."""

import contextlib


def set_tensorflow_threads(threads: int) -> None:
    """A fixed thread count, not the node's core count: sums split the same way, so results repeat to the last bit."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow already ran in this process (a test, a notebook): its thread pools are fixed by now.


def configure_tensorflow(seed: int, threads: int) -> None:
    """Seeded, deterministic ops and a fixed thread count, so a CPU run is repeatable."""
    import keras
    import tensorflow as tf

    set_tensorflow_threads(threads)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def make_optimizer(name: str, learning_rate: float):
    import keras

    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    raise ValueError(f"unknown optimizer '{name}'; use adam or sgd")


def precision_policy(requested: bool, gpus: list) -> str:
    """mixed_float16 when asked for and a GPU is there; float32 on CPU, where float16 is slower, not faster."""
    return "mixed_float16" if requested and gpus else "float32"


@contextlib.contextmanager
def global_precision(policy: str):
    import keras

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def distribution_strategy():
    """MirroredStrategy across all visible GPUs when there are several (each batch split between them), else the
    default."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
    return tf.distribute.get_strategy()


def gpu_names() -> list[str]:
    import tensorflow as tf

    return [device.name for device in tf.config.list_physical_devices("GPU")]
