"""How far the same run moves when only the seed changes, and whether a difference stands out from that."""

from dataclasses import dataclass

import numpy as np

from .records import load_result

WITHIN_NOISE = "within noise"


@dataclass(frozen=True)
class Spread:
    """Test accuracies of one run trained with several seeds: mean, lowest, highest (fractions)."""

    label: str
    accuracies: tuple

    @property
    def mean(self) -> float:
        """Mean test accuracy over the seeds."""
        return float(np.mean(self.accuracies))

    @property
    def width(self) -> float:
        """Highest minus lowest test accuracy: the band a single run may land anywhere in."""
        return float(max(self.accuracies) - min(self.accuracies))

    def __str__(self):
        values = ", ".join(f"{100 * a:.2f}%" for a in self.accuracies)
        return (f"{self.label}, {len(self.accuracies)} seeds: {values}; mean {100 * self.mean:.2f}%, "
                f"spread {100 * self.width:.2f} points")


def seed_spread(records) -> Spread:
    """The spread of one run's test accuracy over its seeds (records of the same settings, seeds differing)."""
    records = list(records)
    seeds = [r["seed"] for r in records]
    if len(records) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"a spread needs the same run with at least two different seeds; got seeds {seeds}")
    settings = {(r["notebook"], r["budget"], r["epochs"], r["train_size"], r["params"]) for r in records}
    if len(settings) > 1:
        raise ValueError(f"these records are not one run with different seeds: {sorted(settings)}")
    return Spread(records[0]["label"], tuple(r["test_accuracy"] for r in records))


def compare(better, worse, spread: Spread):
    """True if `better` beats `worse` by more than the seed spread, False if it loses by more, else 'within noise'.

    Accepts two test accuracies (fractions) or two recorded runs.
    """
    a = better["test_accuracy"] if isinstance(better, dict) else better
    b = worse["test_accuracy"] if isinstance(worse, dict) else worse
    if abs(a - b) <= spread.width:
        return WITHIN_NOISE
    return a > b


def recorded_spread(budget: str, notebook: str, run: str, seeds=(1, 2)) -> Spread:
    """The spread of a recorded run and its recorded seed runs (<run>_seed<N>, see training.train_more_seeds)."""
    return seed_spread([load_result(budget, notebook, run)]
                       + [load_result(budget, notebook, f"{run}_seed{seed}") for seed in seeds])


def widest(*spreads: Spread) -> Spread:
    """The widest of several spreads: the stricter yardstick when more than one applies."""
    return max(spreads, key=lambda spread: spread.width)


# The runs notebooks 02 and 03 trained with three seeds each: the yardstick of steps 2-4 is the wider spread.
STEP_SEED_RUNS = (("02_data_augmentation", "crop+flip+whiten"), ("03_model_improvements", "LRN"))


def steps_yardstick(budget: str) -> Spread:
    """The yardstick of steps 2-4 that notebook 03 builds in view: the wider of 02's and 03's recorded seed spreads."""
    return widest(*(recorded_spread(budget, notebook, run) for notebook, run in STEP_SEED_RUNS))
