"""Fine-tuning steps: what trains in each step of a run's strategy (faceaudit.study.STRATEGY_STEPS names them)."""

import keras

from faceaudit.models import transfer


def apply_step(model: keras.Model, trainable: str, unfreeze_last: int = 0) -> None:
    """Make the step's part of the model trainable and freeze the rest (takes effect at the next compile).

    "all": every layer; "head" / "backbone": that part of a transfer model only; "last_layers": the head and the
    backbone's last `unfreeze_last` layers.
    """
    if trainable == "all":
        transfer.set_trainable_deep(model, True)
    elif trainable in ("head", "backbone"):
        require_backbone(model, trainable)
        transfer.set_trainable(model, trainable)
    elif trainable == "last_layers":
        require_backbone(model, trainable)
        transfer.unfreeze_last_layers(model, unfreeze_last)
    else:
        raise ValueError(f"unknown training step '{trainable}'; use all, head, backbone or last_layers")


def require_backbone(model: keras.Model, trainable: str) -> None:
    if "backbone" not in [layer.name for layer in model.layers]:
        raise ValueError(f"step '{trainable}' needs a transfer model with a backbone; '{model.name}' has none")


def trainable_parameters(model: keras.Model) -> int:
    return int(sum(keras.ops.size(weight) for weight in model.trainable_weights))
