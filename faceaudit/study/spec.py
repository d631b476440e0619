"""The run spec: what `expand_runs` gives each run, and what the train rule passes its script as params."""

from typing import NotRequired, TypedDict


class EarlyStopping(TypedDict):
    patience: int | None
    monitor: str
    restore_best_weights: bool


class Step(TypedDict):
    trainable: str  # catalog.TRAINABLE_PARTS or "last_layers"
    epochs: int
    learning_rate: float
    early_stopping: EarlyStopping


class LossWeighting(TypedDict):
    method: str  # none | class | group | reweighing
    attributes: NotRequired[list[str]]
    target: NotRequired[str]
    privileged_groups: NotRequired[dict[str, str]]
    positive_class: NotRequired[str | None]


class TrainingSettings(TypedDict):
    steps: list[Step]
    loss_weighting: LossWeighting
    augmentation: dict[str, float | bool]
    regression_loss: str
    mixed_precision: bool
    deterministic: bool
    jit_compile: bool
    dropout_rate: float
    head: NotRequired[str]  # transfer models only
    weights: NotRequired[str | None]
    unfreeze_last: NotRequired[int]


class Resources(TypedDict):
    gpu: int
    runtime: int
    mem_mb: int
    threads: int


class VaeSettings(TypedDict):
    latent_size: int
    reconstruction_loss: str


class RunSpec(TypedDict):
    run: str
    experiment: str
    configuration: str  # the run name without its seed part: the same for every training seed of a configuration
    dataset: str
    model: str
    targets: dict[str, list[str] | str]  # class names, or labels.NUMERIC
    image_size: int
    color: str
    hyperparameters: dict
    grid_point: dict  # the hyperparameters the grid set (not the seed)
    seed_index: int | None  # the training seed k the experiment asked for (seeds, repeats, grid.seed); None if none
    seed: int  # derived from the study seed and the run name; seeds initialisation, shuffling and augmentation
    eval_sets: list[str]
    resources: Resources
    training: NotRequired[TrainingSettings]  # classifiers
    vae: NotRequired[VaeSettings]  # model: vae
