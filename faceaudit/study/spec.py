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


class Mitigation(TypedDict):
    """In-training mitigation (faceaudit.training.mitigation); only the method's own keys are present."""

    method: str  # catalog.MITIGATION_METHODS: none | group_dro | adversarial | mmd
    attributes: NotRequired[list[str]]  # whose groups (their values joined, e.g. Female+A) the method treats apart
    strength: NotRequired[float]  # group_dro: step size eta; adversarial: adversary weight alpha; mmd: penalty weight
    group_adjustment: NotRequired[float]  # group_dro: C of the C / sqrt(n_g) added to each group's loss
    target: NotRequired[str]  # adversarial, mmd: the target whose scores the method watches
    criterion: NotRequired[str]  # adversarial: demographic_parity | equalized_odds (the adversary sees the label)
    update: NotRequired[str]  # adversarial: gradient_reversal | projection
    hidden_units: NotRequired[int]  # adversarial: 0 = logistic regression
    groups: NotRequired[list[str]]  # mmd: the one (against the rest) or two groups compared; [] = the only two
    label: NotRequired[str | None]  # mmd: compare only examples of this true class (None: all)
    bandwidth: NotRequired[float]  # mmd: Gaussian kernel width on the scores


class ModelSelection(TypedDict):
    """Which epoch a step ends with beyond early stopping: the best by a group metric on the validation split."""

    monitor: str  # catalog.MODEL_SELECTION_MONITORS: none | worst_group_accuracy | accuracy_gap
    attributes: NotRequired[list[str]]
    target: NotRequired[str]


class TrainingSettings(TypedDict):
    steps: list[Step]
    loss_weighting: LossWeighting
    augmentation: dict[str, float | bool]
    regression_loss: str
    mixed_precision: bool
    deterministic: bool
    jit_compile: bool
    dropout_rate: float
    mitigation: Mitigation  # run["training"]["mitigation"]["method"] labels runs by method
    model_selection: ModelSelection
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


class PostProcessing(TypedDict):
    """How a derived run's predictions come from another run's saved scores (study.derived.derived_runs)."""

    method: str  # catalog.POST_PROCESSING_METHODS
    constraint: str
    attribute: str  # the sensitive attribute whose groups the method treats apart
    target: str  # the binary target post-processed (the others are copied unchanged)
    source_run: str  # the trained run whose validation predictions fit it and whose other predictions it adjusts
    positive_class: str
    privileged_group: str | None  # the dataset's privileged group of `attribute` (the aif360 methods need one)
    output: str  # "scores" (the method adjusts scores) or "decisions" (its 0/1 decision is written as the score)
    seed: int
    options: dict  # the method's own settings (objective, grid sizes, bound)


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
    # Runs whose predictions come from elsewhere (not trained: no `training`, `resources`; a `grid_point` of {}):
    post_processing: NotRequired[PostProcessing]  # `<source run>__post_<name>`
