"""The one list of the study's names and facts: models and their family, backbones, heads, strategies, layouts, grid
keys and default cluster resources. Keras-free, so the workflow can read it on every `snakemake` call (`-n` too); the
schema's enums, the model builders and the study checks all follow it (tests tie them together)."""

# Classifiers built from scratch (faceaudit.models.builders), by registry name.
OWN_CLASSIFIERS = ("mlp", "small_cnn", "cnn_bn", "baseline_cnn", "deep_cnn", "plain_cnn", "multitask_cnn")
# Pretrained keras.applications backbones under a head (faceaudit.models.transfer).
BACKBONES = ("vgg16", "resnet50", "inception_resnet_v2", *(f"efficientnet_b{number}" for number in range(8)))
CLASSIFIERS = (*OWN_CLASSIFIERS, *BACKBONES)
GENERATIVE_MODELS = ("vae",)
# Models trained elsewhere, audited here (faceaudit.study.audited): a model file, or prediction files.
AUDITED_MODELS = ("external", "imported")
# What an experiment's `model:` may name.
EXPERIMENT_MODELS = (*OWN_CLASSIFIERS, *GENERATIVE_MODELS, *BACKBONES, *AUDITED_MODELS)
# The sine-wave comparison's models (faceaudit.models.sequence); not for experiments.
SEQUENCE_MODELS = ("sequence_mlp", "lstm", "gru")

MULTI_TARGET_MODELS = ("multitask_cnn",)
# The smallest input side (pixels) of the models whose valid convolutions and poolings need more than the schema's 8;
# faceaudit.models.builders' test builds each at its minimum and fails one pixel below.
MIN_IMAGE_SIZE = {"baseline_cnn": 10, "deep_cnn": 10, "plain_cnn": 40}
# Models whose one output unit is P(second class) of a binary target.
SIGMOID_MODELS = ("baseline_cnn",)
HEADS = ("classifier", "dense_128_32", "flatten_128_sigmoid")
SIGMOID_HEADS = ("flatten_128_sigmoid",)
TRAINABLE_PARTS = ("head", "backbone", "all")
# What each strategy trains in each of its steps (faceaudit.training.strategies applies them).
STRATEGY_STEPS = {
    "one_step": ["all"],
    "two_step": ["head", "all"],
    "three_step": ["head", "backbone", "all"],
    "last_layers": ["head", "last_layers"],
}
STRATEGIES = tuple(STRATEGY_STEPS)
LOSSES = {"softmax": "sparse_categorical_crossentropy", "sigmoid": "binary_crossentropy"}

LAYOUTS = ("synthetic", "fairface_csv", "celeba_attributes", "class_folders", "split_lists", "utkface_names")

# What a `grid:` may sweep, with the abbreviation that names a run's grid point: the hyperparameters, then the
# training seed (always last in a run name: `exp__lr0.01_seed1`).
GRID_ABBREVIATIONS = {
    "learning_rate": "lr",
    "batch_size": "bs",
    "epochs": "ep",
    "optimizer": "opt",
    "strategy": "st",
    "mitigation": "mit",  # the in-training mitigation method (the experiment's `mitigation.method`)
    "mitigation_strength": "mits",  # its `mitigation.strength`
    "seed": "seed",
}
GRID_KEYS = tuple(GRID_ABBREVIATIONS)

# Grid keys that set the experiment's `mitigation` block rather than a hyperparameter.
MITIGATION_GRID_KEYS = {"mitigation": "method", "mitigation_strength": "strength"}
# In-training mitigation methods (faceaudit.training.mitigation), each with the strength it uses when none is set:
# group DRO's step size eta, the adversary's weight alpha, the MMD penalty's weight; and each method's own keys.
MITIGATION_STRENGTH = {"group_dro": 0.01, "adversarial": 1.0, "mmd": 1.0}
MITIGATION_METHODS = ("none", *MITIGATION_STRENGTH)
MITIGATION_OPTIONS = {
    "group_dro": ("group_adjustment",),
    "adversarial": ("target", "criterion", "update", "hidden_units"),
    "mmd": ("target", "groups", "label", "bandwidth"),
}
# What model selection by group may watch on the validation split (none: early stopping alone decides).
MODEL_SELECTION_MONITORS = ("none", "worst_group_accuracy", "accuracy_gap")

# Post-processing methods (faceaudit.postprocessing) by config name: their constraints (the default first), what the
# derived run's predictions file holds as the positive class's score, whether they need the attribute's privileged
# group, and their own keys (the schema has one branch per method with these constraints and keys).
POST_PROCESSING_METHODS = {
    "threshold_optimizer": {
        "constraints": ["demographic_parity", "equalized_odds", "true_positive_rate_parity"],
        "output": "decisions",
        "needs_privileged_group": False,
        "options": ["objective"],
    },
    "eq_odds": {
        "constraints": ["equalized_odds"],
        "output": "decisions",
        "needs_privileged_group": True,
        "options": [],
    },
    "calibrated_eq_odds": {
        "constraints": ["weighted", "fpr", "fnr"],
        "output": "scores",
        "needs_privileged_group": True,
        "options": [],
    },
    "reject_option": {
        "constraints": ["statistical_parity", "average_odds", "equal_opportunity"],
        "output": "decisions",
        "needs_privileged_group": True,
        "options": ["thresholds", "margins", "bound"],
    },
}

MODEL_FAMILIES = ("mlp", "cnn", "transfer", "vae")
# Defaults of `training_resources` per model family.
FAMILY_RESOURCES = {
    "mlp": {"gpu": 1, "runtime": 30, "mem_mb": 4000, "threads": 2},
    "cnn": {"gpu": 1, "runtime": 60, "mem_mb": 8000, "threads": 2},
    "transfer": {"gpu": 1, "runtime": 240, "mem_mb": 16000, "threads": 4},
    "vae": {"gpu": 1, "runtime": 60, "mem_mb": 8000, "threads": 2},
}


def model_family(model: str) -> str:
    """The family whose `training_resources` a model's jobs ask for."""
    if model in BACKBONES:
        return "transfer"
    return model if model in ("mlp", "vae") else "cnn"


def output_kind(model: str, head: str = "classifier") -> str:
    """ "softmax" (one probability per class, loss LOSSES["softmax"]) or "sigmoid" (one unit = P(second class) of a
    binary target, loss LOSSES["sigmoid"] on the 0/1 class index), for the model's class targets."""
    if model not in CLASSIFIERS:
        raise ValueError(f"'{model}' is not a target classifier; classifiers: {sorted(CLASSIFIERS)}")
    sigmoid = model in SIGMOID_MODELS or (model in BACKBONES and head in SIGMOID_HEADS)
    return "sigmoid" if sigmoid else "softmax"
