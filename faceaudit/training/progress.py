"""What the console shows while a run trains: one short line per epoch (where the run is, loss, accuracy or MAE,
images/s, time left) and a line for each event worth knowing; Keras' own output stays in the job's log."""

from dataclasses import dataclass, field

from faceaudit.logs import console_line

SHOWN_METRICS = ("accuracy", "mae")


@dataclass
class RunProgress:
    """A run's plan (epochs and learning rate of each step; early stopping may end a step sooner) and what this
    attempt measured: the images/s of each epoch's training part and each epoch's seconds, validation included."""

    run: str
    step_epochs: list[int]
    learning_rates: list[float]
    n_train_images: int
    images_per_second: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    def note(self, text: str) -> None:
        console_line(f"{self.run}: {text}")

    def where(self, step: int, step_epoch: int, epochs_before: int) -> str:
        """'epoch 7/12 (step 2/2, epoch 3/8)', counting from 1; the step part only for runs of several steps."""
        total = epochs_before + sum(self.step_epochs[step:])
        place = f"epoch {epochs_before + step_epoch + 1}/{total}"
        if len(self.step_epochs) > 1:
            place += f" (step {step + 1}/{len(self.step_epochs)}, epoch {step_epoch + 1}/{self.step_epochs[step]})"
        return place

    def epoch_line(self, step: int, step_epoch: int, epochs_before: int, logs: dict) -> str:
        remaining = self.step_epochs[step] - step_epoch - 1 + sum(self.step_epochs[step + 1 :])
        seconds_left = remaining * sum(self.epoch_seconds) / max(len(self.epoch_seconds), 1)
        return "  ".join(
            [
                self.where(step, step_epoch, epochs_before),
                *(f"{name} {shown_value(name, value)}" for name, value in shown_logs(logs).items()),
                f"{self.images_per_second[-1]:.0f} images/s",
                f"ETA {duration(seconds_left)}",
            ]
        )


def shown_logs(logs: dict) -> dict:
    """The loss and the accuracy or MAE of each target, training then validation."""
    training = ["loss", *sorted(name for name in logs if name.endswith(SHOWN_METRICS) and not name.startswith("val_"))]
    names = [name for name in [*training, *(f"val_{name}" for name in training)] if name in logs]
    return {name: logs[name] for name in names}


def shown_value(name: str, value: float) -> str:
    return f"{value:.4f}" if name.endswith("accuracy") else f"{value:.4g}"


def duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
