"""In-training mitigation: group DRO, adversarial debiasing and an MMD penalty between two groups' scores.

Each method is the classifier's own graph (same layers, same outputs, so compiling, fine-tuning steps and predictions
work unchanged) as a Keras model whose train_step changes the objective. Every example's group (its values of the
method's attributes, joined like `Female+A`) travels in the batch's labels under GROUP_KEY and is taken out before the
classifier's loss. The method's own state (DRO's group weights, the adversary and its optimizer slots) are variables
of the model, so Keras' checkpoints hold them and a killed job resumes with them.
"""

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import ops

from faceaudit.catalog import LOSSES, MITIGATION_METHODS
from faceaudit.models.adversary import build_adversary

GROUP_KEY = "__group__"  # the labels' entry with each example's group index; not an output of the model
SPARSE_CROSSENTROPY = LOSSES["softmax"]


def group_names(rows: pd.DataFrame, attributes: list[str]) -> pd.Series:
    """Each row's group: its values of `attributes` joined with '+' (the names loss weighting and the audit use)."""
    missing = [attribute for attribute in attributes if attribute not in rows.columns]
    if missing:
        raise ValueError(
            f"mitigation.attributes: {missing} are not labels of the dataset; "
            f"its rows have columns {list(rows.columns)}"
        )
    return rows[list(attributes)].astype(str).agg("+".join, axis=1)


def training_groups(rows: pd.DataFrame, mitigation: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The groups of the train split in sorted order, each row's group index, and each group's size."""
    names = group_names(rows, mitigation["attributes"])
    vocabulary = sorted(set(names))
    if len(vocabulary) < 2:
        raise ValueError(
            f"mitigation.attributes: {mitigation['attributes']} form {len(vocabulary)} group in the train split "
            f"({vocabulary}); method '{mitigation['method']}' needs at least two"
        )
    indices = names.map({name: index for index, name in enumerate(vocabulary)}).to_numpy(dtype=np.int32)
    return vocabulary, indices, np.bincount(indices, minlength=len(vocabulary))


def mitigated_model(
    classifier, mitigation: dict, targets: dict, vocabulary: list[str], group_sizes: np.ndarray, seed: int = 0
):
    """The classifier trained with the mitigation method (the classifier itself for method `none`). `targets` are
    the run's {target: class names}; `vocabulary` and `group_sizes` come from training_groups."""
    method = mitigation["method"]
    if method == "none":
        return classifier
    if method not in MITIGATION_METHODS:
        raise ValueError(f"mitigation.method: unknown method '{method}'; expected one of {list(MITIGATION_METHODS)}")
    return METHOD_MODELS[method](classifier, mitigation, targets, vocabulary, np.asarray(group_sizes), seed)


def plain_classifier(model):
    """The trained classifier as a plain functional model (same layers and weights, none of the method's state), to
    save: the predict rule loads it without knowing the method."""
    if not isinstance(model, MitigatedModel):
        return model
    return keras.Model(model.inputs, dict(zip(model.output_names, model.outputs)), name=model.name)


def describe_mitigation(model, mitigation: dict, vocabulary: list[str] | None, group_sizes) -> dict:
    """What run.json records: the settings, the groups with their train sizes, and DRO's final group weights."""
    if mitigation["method"] == "none":
        return dict(mitigation)
    groups = {name: {"n": int(size)} for name, size in zip(vocabulary, group_sizes)}
    if mitigation["method"] == "group_dro":
        for name, weight in zip(vocabulary, model.group_weights.numpy()):
            groups[name]["weight"] = round(float(weight), 6)
    return {**mitigation, "groups": groups}


class MitigatedModel(keras.Model):
    """The classifier's graph with a mitigation method's train_step; subclasses give `objective`."""

    training_only_metrics = ()

    @property
    def mitigation_method(self) -> str:
        """The method's name in the config (training.callbacks names it when the loss explodes)."""
        return self.mitigation["method"]

    def __init__(self, classifier, mitigation: dict, targets: dict, vocabulary: list[str], group_sizes, seed: int):
        super().__init__(
            inputs=classifier.inputs,
            outputs=dict(zip(classifier.output_names, classifier.outputs)),
            name=classifier.name,
        )
        self.mitigation, self.targets, self.vocabulary = mitigation, targets, list(vocabulary)
        self.n_groups = len(vocabulary)

    def per_example_loss(self, y, y_pred, sample_weight):
        """The compiled loss of every target, per example (summed over targets), times the loss weights."""
        total = 0.0
        for target, loss_name in self.loss.items():
            truth, predicted = y[target], y_pred[target]
            if loss_name != SPARSE_CROSSENTROPY:
                truth = ops.reshape(ops.cast(truth, predicted.dtype), ops.shape(predicted))
            total = total + ops.cast(keras.losses.get(loss_name)(truth, predicted), "float32")
        if sample_weight is not None:
            total = total * ops.cast(sample_weight, "float32")
        return total

    def regularization(self):
        return ops.sum([ops.cast(loss, "float32") for loss in self.losses]) if self.losses else 0.0

    def target_scores(self, y_pred):
        """The watched target's scores as float32 columns (softmax probabilities, or the sigmoid unit)."""
        scores = ops.cast(y_pred[self.mitigation["target"]], "float32")
        return ops.reshape(scores, (-1, ops.shape(scores)[-1]))

    def test_step(self, data):
        logs = super().test_step(data)
        return {name: value for name, value in logs.items() if name not in self.training_only_metrics}

    def split_groups(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y = dict(y)
        if GROUP_KEY not in y:
            raise ValueError(f"{self.mitigation['method']}: the training batches carry no group labels")
        groups = ops.cast(y.pop(GROUP_KEY), "int32")
        return x, y, sample_weight, groups


def apply_gradients(model, loss, tape, variables) -> None:
    gradients = tape.gradient(model.optimizer.scale_loss(loss), variables)
    model.optimizer.apply_gradients(zip(gradients, variables))


class GroupDRO(MitigatedModel):
    """Group DRO (Sagawa et al. 2020, Algorithm 1): group weights q move by exponentiated gradient,
    q_g <- q_g exp(eta (L_g + C / sqrt(n_g))), then normalise; the model minimises sum_g q_g L_g."""

    def __init__(self, classifier, mitigation, targets, vocabulary, group_sizes, seed):
        super().__init__(classifier, mitigation, targets, vocabulary, group_sizes, seed)
        self.group_weights = self.add_weight(
            shape=(self.n_groups,),
            initializer=keras.initializers.Constant(1.0 / self.n_groups),
            trainable=False,
            aggregation="mean",  # replicas of a MirroredStrategy average their updates
            name="dro_group_weights",
        )
        adjustment = mitigation.get("group_adjustment", 0.0)
        self.adjustments = (adjustment / np.sqrt(np.maximum(group_sizes, 1))).astype("float32")
        self.worst_group_loss = keras.metrics.Mean(name="worst_group_loss")
        self.training_only_metrics = ("worst_group_loss",)

    def train_step(self, data):
        x, y, sample_weight, groups = self.split_groups(data)
        membership = ops.one_hot(groups, self.n_groups, dtype="float32")  # (batch, groups)
        counts = ops.sum(membership, axis=0)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            losses = self.per_example_loss(y, y_pred, sample_weight)
            group_losses = ops.sum(membership * losses[:, None], axis=0) / ops.maximum(counts, 1.0)
            present = ops.cast(counts > 0, "float32")
            step = self.mitigation["strength"] * (ops.stop_gradient(group_losses) + self.adjustments) * present
            weights = self.group_weights * ops.exp(step)
            weights = weights / ops.sum(weights)
            objective = ops.sum(weights * group_losses) + self.regularization()
        apply_gradients(self, objective, tape, self.trainable_variables)
        self.group_weights.assign(weights)
        self.worst_group_loss.update_state(ops.max(group_losses + (present - 1.0) * 1e9))
        self._loss_tracker.update_state(objective, sample_weight=ops.shape(losses)[0])
        return self.compute_metrics(x, y, y_pred, sample_weight)


class AdversarialDebiasing(MitigatedModel):
    """Adversarial debiasing (Zhang et al. 2018): an adversary learns to predict the group from the classifier's
    scores (and the true class, for equalized odds); the classifier descends its own loss while pushing the
    adversary's up: by gradient reversal (g_task - alpha g_adv) or with Zhang's projection term
    (g_task - proj_{g_adv} g_task - alpha g_adv)."""

    def __init__(self, classifier, mitigation, targets, vocabulary, group_sizes, seed):
        super().__init__(classifier, mitigation, targets, vocabulary, group_sizes, seed)
        self.n_classes = len(targets[mitigation["target"]])
        score_columns = int(classifier.get_layer(mitigation["target"]).output.shape[-1])
        with_label = mitigation["criterion"] == "equalized_odds"
        self.adversary = build_adversary(
            score_columns + (self.n_classes if with_label else 0), self.n_groups, mitigation["hidden_units"], seed
        )
        self.adversary_loss = keras.metrics.Mean(name="adversary_loss")
        self.training_only_metrics = ("adversary_loss",)

    def adversary_input(self, y, y_pred):
        scores = self.target_scores(y_pred)
        if self.mitigation["criterion"] != "equalized_odds":
            return scores
        truth = ops.one_hot(ops.cast(ops.reshape(y[self.mitigation["target"]], (-1,)), "int32"), self.n_classes)
        return ops.concatenate([scores, ops.cast(truth, "float32")], axis=1)

    def train_step(self, data):
        x, y, sample_weight, groups = self.split_groups(data)
        adversary_variables = self.adversary.trainable_variables
        adversary_ids = {id(variable) for variable in adversary_variables}
        classifier_variables = [v for v in self.trainable_variables if id(v) not in adversary_ids]
        with tf.GradientTape(persistent=True) as tape:
            y_pred = self(x, training=True)
            task_loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            predicted_groups = self.adversary(self.adversary_input(y, y_pred), training=True)
            adversary_loss = ops.mean(keras.losses.sparse_categorical_crossentropy(groups, predicted_groups))
            scaled_task = self.optimizer.scale_loss(task_loss)
            scaled_adversary = self.optimizer.scale_loss(adversary_loss)
        task_gradients = tape.gradient(scaled_task, classifier_variables)
        leak_gradients = tape.gradient(scaled_adversary, classifier_variables)
        adversary_gradients = tape.gradient(scaled_adversary, adversary_variables)
        del tape
        classifier_gradients = [
            self.debiased_gradient(task, leak, variable)
            for task, leak, variable in zip(task_gradients, leak_gradients, classifier_variables)
        ]
        self.optimizer.apply_gradients(
            zip([*classifier_gradients, *adversary_gradients], [*classifier_variables, *adversary_variables])
        )
        self.adversary_loss.update_state(adversary_loss)
        self._loss_tracker.update_state(task_loss, sample_weight=ops.shape(groups)[0])
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def debiased_gradient(self, task, leak, variable):
        task = ops.zeros_like(variable) if task is None else ops.convert_to_tensor(task)
        if leak is None:
            return task
        leak = ops.convert_to_tensor(leak)
        gradient = task - self.mitigation["strength"] * leak
        if self.mitigation["update"] == "projection":
            unit = leak / (ops.sqrt(ops.sum(leak * leak)) + 1e-12)
            gradient = gradient - ops.sum(task * unit) * unit
        return gradient


class MMDPenalty(MitigatedModel):
    """An MMD penalty in the style of MinDiff (Prost et al. 2019): the classifier's loss plus `strength` times the
    squared maximum mean discrepancy (Gaussian kernel) between the scores of two groups in each batch, optionally only
    over examples of one true class (e.g. the negatives, for equal false-positive rates)."""

    def __init__(self, classifier, mitigation, targets, vocabulary, group_sizes, seed):
        super().__init__(classifier, mitigation, targets, vocabulary, group_sizes, seed)
        first, second = compared_groups(mitigation, vocabulary)
        self.first_members = np.isin(vocabulary, first).astype("float32")
        self.second_members = np.isin(vocabulary, second).astype("float32")
        label = mitigation.get("label")
        self.label_index = None if label is None else list(targets[mitigation["target"]]).index(label)
        self.penalty = keras.metrics.Mean(name="mmd_penalty")
        self.training_only_metrics = ("mmd_penalty",)

    def squared_mmd(self, scores, first, second):
        distances = ops.sum(ops.square(scores[:, None, :] - scores[None, :, :]), axis=-1)
        kernel = ops.exp(-distances / (2.0 * self.mitigation["bandwidth"] ** 2))
        count_first, count_second = ops.sum(first), ops.sum(second)
        a, b = first / ops.maximum(count_first, 1.0), second / ops.maximum(count_second, 1.0)

        def mean_kernel(left, right):
            return ops.sum(left[:, None] * kernel * right[None, :])

        value = mean_kernel(a, a) + mean_kernel(b, b) - 2.0 * mean_kernel(a, b)
        both = ops.cast((count_first > 0) & (count_second > 0), "float32")
        return ops.maximum(value, 0.0) * both

    def train_step(self, data):
        x, y, sample_weight, groups = self.split_groups(data)
        membership = ops.one_hot(groups, self.n_groups, dtype="float32")
        first = ops.sum(membership * self.first_members, axis=1)
        second = ops.sum(membership * self.second_members, axis=1)
        if self.label_index is not None:
            of_label = ops.reshape(y[self.mitigation["target"]], (-1,)) == self.label_index
            first, second = first * ops.cast(of_label, "float32"), second * ops.cast(of_label, "float32")
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            task_loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            penalty = self.squared_mmd(self.target_scores(y_pred), first, second)
            objective = task_loss + self.mitigation["strength"] * penalty
        apply_gradients(self, objective, tape, self.trainable_variables)
        self.penalty.update_state(penalty)
        self._loss_tracker.update_state(task_loss, sample_weight=ops.shape(groups)[0])
        return self.compute_metrics(x, y, y_pred, sample_weight)


# The model class of each in-training method (catalog.MITIGATION_METHODS but `none`).
METHOD_MODELS = {"group_dro": GroupDRO, "adversarial": AdversarialDebiasing, "mmd": MMDPenalty}


def compared_groups(mitigation: dict, vocabulary: list[str]) -> tuple[list[str], list[str]]:
    """The two sides the MMD compares: `groups: [A, B]`, `[A]` (A against every other group), or none when the
    attributes form exactly two groups."""
    groups = list(mitigation.get("groups") or [])
    unknown = [group for group in groups if group not in vocabulary]
    if unknown:
        raise ValueError(f"mitigation.groups: {unknown} do not occur in the train split; its groups are {vocabulary}")
    if len(groups) == 2:
        return [groups[0]], [groups[1]]
    if len(groups) == 1:
        return groups, [name for name in vocabulary if name != groups[0]]
    if len(vocabulary) != 2:
        raise ValueError(
            f"mitigation.groups: the attributes form {len(vocabulary)} groups {vocabulary}; name the one or two the "
            "MMD penalty compares"
        )
    return [vocabulary[0]], [vocabulary[1]]
