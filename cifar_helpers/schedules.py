"""Learning-rate schedules stated in epochs (Keras' schedules count optimizer steps)."""

import math

import keras


def steps_per_epoch(train_size: int, batch_size: int) -> int:
    """Optimizer steps in one epoch (the last, partial batch counts).

    Introduced in notebook 04.
    """
    return math.ceil(train_size / batch_size)


def piecewise_by_epoch(boundaries_in_epochs, values, steps_in_epoch: int):
    """PiecewiseConstantDecay with its boundaries given in epochs, converted to steps.

    PiecewiseConstantDecay compares its boundaries with the optimizer's step counter, so
    passing epochs directly would drop the rate after a handful of batches. The counter starts
    at 0 and a rate applies while step <= boundary, so a drop "after epoch e" sits at step
    e * steps_in_epoch - 1: the first step of epoch e + 1 already uses the new rate.

    Introduced in notebook 07.
    """
    if len(values) != len(boundaries_in_epochs) + 1:
        raise ValueError(
            f"{len(boundaries_in_epochs)} boundaries need {len(boundaries_in_epochs) + 1} values, got {len(values)}"
        )
    boundaries = [int(round(epoch * steps_in_epoch)) - 1 for epoch in boundaries_in_epochs]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, list(values))


def rate_at_epochs(schedule, steps_in_epoch: int, epochs: int) -> list:
    """The learning rate at the end of each epoch (its last step), for plotting: a drop part-way shows in that epoch.

    Introduced in notebook 04.
    """
    if not callable(schedule):
        return [float(schedule)] * epochs
    return [float(schedule((epoch + 1) * steps_in_epoch - 1)) for epoch in range(epochs)]


def sgd_step_recipe(epochs: int, steps_in_epoch: int, base_rate: float = 0.1):
    """He et al.'s CIFAR recipe scaled to `epochs`: SGD momentum 0.9, rate / 10 at 50% and 75%.

    Introduced in notebook 08.
    """
    schedule = piecewise_by_epoch(
        [epochs / 2, epochs * 3 / 4], [base_rate, base_rate / 10, base_rate / 100], steps_in_epoch
    )
    return keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)


def sgd_warmup_cosine(epochs: int, steps_in_epoch: int, base_rate: float = 0.1, warmup_fraction: float = 0.1):
    """SGD + Nesterov momentum 0.9: a linear warm-up to `base_rate` over the first `warmup_fraction` of the
    steps, then cosine decay to 0 at the last step; the schedule is sized to this run's number of steps.

    Keras' CosineDecay counts optimizer steps: warmup_steps and decay_steps are steps, not epochs.

    Introduced in notebook 05.
    """
    total = epochs * steps_in_epoch
    warmup = max(1, int(round(warmup_fraction * total)))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0, decay_steps=max(1, total - warmup), warmup_target=base_rate, warmup_steps=warmup
    )
    return keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True)


@keras.saving.register_keras_serializable(package="cifar_helpers")
class Triangle(keras.optimizers.schedules.LearningRateSchedule):
    """airbench's short triangle: from start * peak up to peak over the first `rise` of the steps, then a
    straight line down to end * peak at the last step. Sized in optimizer steps, like every Keras schedule.

    Introduced in notebook 10.
    """

    def __init__(self, peak: float, total_steps: int, rise: float = 0.23, start: float = 0.2, end: float = 0.07):
        if total_steps < 2:
            raise ValueError(f"a triangle needs at least 2 steps; got total_steps={total_steps}")
        self.peak, self.total_steps, self.rise, self.start, self.end = peak, int(total_steps), rise, start, end
        self.top = max(1, int(total_steps * rise))

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        up = self.start + (1.0 - self.start) * step / self.top
        down = 1.0 + (self.end - 1.0) * (step - self.top) / max(1, self.total_steps - self.top)
        return self.peak * keras.ops.where(step < self.top, up, keras.ops.maximum(down, self.end))

    def mean_factor(self) -> float:
        """The average of the rate over the run, as a fraction of the peak (for a constant-rate comparison)."""
        rates = keras.ops.convert_to_numpy(self(keras.ops.arange(self.total_steps)))
        return float(rates.mean() / self.peak)

    def get_config(self):
        return {
            "peak": self.peak,
            "total_steps": self.total_steps,
            "rise": self.rise,
            "start": self.start,
            "end": self.end,
        }
