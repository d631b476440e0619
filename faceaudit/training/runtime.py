"""TensorFlow set-up for a run: thread count, seeds and op determinism, precision policy, devices, optimizer."""

import contextlib
import re

from faceaudit.logs import console_line

# TensorFlow's refusals under op determinism: "Deterministic GPU implementation of ... not available" (Unimplemented,
# GPU kernels), "Timestamp cannot be called when determinism is enabled" (FailedPrecondition, every device).
DETERMINISM_REFUSAL = re.compile(r"determinis", re.IGNORECASE)


class NondeterministicOpError(RuntimeError):
    """The run asks for op determinism and uses an op that TensorFlow cannot run deterministically on this device."""


def set_tensorflow_threads(threads: int) -> None:
    """A fixed thread count, not the node's core count: sums split the same way, so results repeat to the last bit."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow already ran in this process (a test, a notebook): its thread pools are fixed by now.


def configure_tensorflow(seed: int, threads: int, deterministic: bool = True) -> None:
    """Seeded ops and a fixed thread count, and op determinism unless switched off, so a run is repeatable."""
    import keras

    set_tensorflow_threads(threads)
    keras.utils.set_random_seed(seed)
    set_op_determinism(deterministic)


def set_op_determinism(enabled: bool) -> None:
    import tensorflow as tf
    from tensorflow.python.framework import config as tensorflow_config

    if enabled:
        tf.config.experimental.enable_op_determinism()
    else:
        # TensorFlow has no public switch-off; an earlier run in the same process (a test, a notebook) may have
        # switched it on, and it is process-wide.
        tensorflow_config.disable_op_determinism()


@contextlib.contextmanager
def stop_on_nondeterministic_op(run: str, experiment: str):
    """Turn TensorFlow's refusal to run an op without a deterministic implementation into one line that names the
    config key to change (printed on the console too) and a NondeterministicOpError, instead of a stack trace."""
    import tensorflow as tf

    try:
        yield
    except (tf.errors.UnimplementedError, tf.errors.FailedPreconditionError) as error:
        if not DETERMINISM_REFUSAL.search(error.message):
            raise
        message = (
            f"{run}: TensorFlow cannot run an op of this run deterministically on this device ({refused_op(error)}). "
            f"Set `experiments.{experiment}.deterministic: false` in the config to train without op determinism "
            "(results then differ slightly from run to run)."
        )
        console_line(message)
        raise NondeterministicOpError(message) from None


def refused_op(error) -> str:
    """TensorFlow's reason and the node it refused, without the Python frames and graph wrappers around them."""
    lines = [line for line in error.message.splitlines() if not line.lstrip().startswith("File ")]
    reasons = [line for line in lines if DETERMINISM_REFUSAL.search(line)]
    reason = re.sub(r"\{\{[^}]*\}\}|\[\[.*?\]\]|\[Op:[^\]]*\]", "", reasons[0]).strip()
    node = re.search(r"\{\{node ([^}]+)\}\}", error.message)
    return f"{reason}; node {node.group(1)}" if node else reason


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
