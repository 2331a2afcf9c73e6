"""How far the same run moves when only the seed changes, and whether a difference stands out from that."""

import math
from dataclasses import dataclass

import numpy as np

from .records import MissingResultError, load_result

WITHIN_NOISE = "within noise"


@dataclass(frozen=True)
class Spread:
    """Test accuracies of one run trained with several seeds: mean, lowest, highest (fractions).

    Introduced in notebook 10.
    """

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
        return (
            f"{self.label}, {len(self.accuracies)} seeds: {values}; mean {100 * self.mean:.2f}%, "
            f"spread {100 * self.width:.2f} points"
        )


READOUT_EPOCHS = 5  # a run tested after every epoch is read by its last 5 epochs' mean test accuracy


def readout(record: dict) -> float:
    """The test accuracy a verdict reads: the mean over the last READOUT_EPOCHS epochs for a run tested after
    every epoch (test_each_epoch: steadier than one epoch's), else the final test accuracy.

    Introduced in notebook 03.
    """
    tested = record.get("history", {}).get("test_accuracy") if record.get("test_each_epoch") else None
    return float(np.mean(tested[-READOUT_EPOCHS:])) if tested else record["test_accuracy"]


def readout_by_epoch(record: dict) -> np.ndarray:
    """At every epoch from the READOUT_EPOCHS-th on, the mean test accuracy of the READOUT_EPOCHS epochs ending there
    (a run tested after every epoch: the readout a run of that length would have had).

    Introduced in notebook 03.
    """
    tested = record.get("history", {}).get("test_accuracy") if record.get("test_each_epoch") else None
    if not tested or len(tested) < READOUT_EPOCHS:
        raise ValueError(f"{record.get('run')}: a readout per epoch needs test_each_epoch=True and at least "
                         f"{READOUT_EPOCHS} epochs; train it with test_each_epoch=True")  # fmt: skip
    window = np.ones(READOUT_EPOCHS) / READOUT_EPOCHS
    return np.convolve(np.asarray(tested, dtype=float), window, mode="valid")


def readout_at(record: dict, epochs: int) -> float:
    """The readout a run of `epochs` epochs would have had: its readout_by_epoch there (a constant-rate run tested
    after every epoch holds each shorter run), to compare it with runs trained for `epochs`.

    Introduced in notebook 02.
    """
    trained = len(record.get("history", {}).get("test_accuracy") or [])
    if not READOUT_EPOCHS <= epochs <= trained:
        held = f"from epoch {READOUT_EPOCHS} to {max(trained, READOUT_EPOCHS)}"
        raise ValueError(f"{record.get('run')}: a readout at epoch {epochs} needs it tested after every epoch, {held}; "
                         "pick an epoch in that range")  # fmt: skip
    return float(readout_by_epoch(record)[epochs - READOUT_EPOCHS])


def read_at(side, epochs: int) -> list:
    """One side of a comparison (a record or seeds) as runs of `epochs` epochs: a run trained that long as it is,
    a longer one by its readout at that epoch (readout_at), so runs trained for `epochs` are compared alike.

    Introduced in notebook 02.
    """
    return [run if run["epochs"] == epochs else readout_at(run, epochs) for run in runs_of(side)]


def gain_by_epoch(after, before) -> np.ndarray:
    """Points of test accuracy `after` gains over `before` at every epoch (each side a record or a list of seeds,
    their mean), read as readout_by_epoch; index 0 is epoch READOUT_EPOCHS.

    Introduced in notebook 03.
    """
    sides = [[readout_by_epoch(r) for r in runs_of(side)] for side in (after, before)]
    epochs = min(len(curve) for side in sides for curve in side)
    means = [np.mean([curve[:epochs] for curve in side], axis=0) for side in sides]
    return 100 * (means[0] - means[1])


def seed_spread(records, epochs=None) -> Spread:
    """The spread of one run's test accuracy over its seeds (records of the same settings, seeds differing);
    with `epochs`, each read as a run of that length (read_at).

    Introduced in notebook 02.
    """
    records = list(records)
    seeds = [r["seed"] for r in records]
    if len(records) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"a spread needs the same run with at least two different seeds; got seeds {seeds}")
    settings = {(r["notebook"], r["budget"], r["epochs"], r["train_size"], r["params"]) for r in records}
    if len(settings) > 1:
        raise ValueError(f"these records are not one run with different seeds: {sorted(settings)}")
    if epochs is None or records[0]["epochs"] == epochs:
        return Spread(records[0]["label"], tuple(readout(r) for r in records))
    return Spread(f"{records[0]['label']} at epoch {epochs}", accuracies(read_at(records, epochs)))


TEST_IMAGES = 10_000


def sampling_floor(accuracy: float, images: int = TEST_IMAGES) -> float:
    """The binomial standard error of an accuracy measured on `images` test images (0.004 at 80% on 10,000).

    Introduced in notebook 02.
    """
    return math.sqrt(accuracy * (1 - accuracy) / images)


def band(yardstick: Spread, accuracy: float) -> float:
    """How far two accuracies near `accuracy` must differ to count:
    the yardstick's spread, at least the sampling floor.

    Introduced in notebook 10.
    """
    return max(yardstick.width, sampling_floor(accuracy))


def accuracies(side) -> tuple:
    """The test accuracies one side of a comparison stands on: a fraction, a record (its readout), or a list (seeds)
    of either."""
    return tuple(readout(item) if isinstance(item, dict) else float(item) for item in runs_of(side))


def runs_of(side) -> list:
    """One side of a comparison as a list: its seeds, or the one run."""
    return list(side) if isinstance(side, (list, tuple)) else [side]


@dataclass(frozen=True)
class Comparison:
    """One verdict: a's mean test accuracy against b's, judged against a yardstick (fractions)."""

    a: tuple
    b: tuple
    yardstick: Spread

    @property
    def difference(self) -> float:
        """Mean of a minus mean of b."""
        return float(np.mean(self.a) - np.mean(self.b))

    @property
    def width(self) -> float:
        """The band a difference must leave: the yardstick's spread, never under the test set's sampling floor."""
        return band(self.yardstick, float(np.mean(self.a + self.b)))

    @property
    def outcome(self):
        """True: a beats b beyond the band; False: a loses beyond it; else WITHIN_NOISE."""
        if abs(self.difference) <= self.width:
            return WITHIN_NOISE
        return self.difference > 0

    @property
    def one_seed(self) -> bool:
        """True when either side is a single run."""
        return min(len(self.a), len(self.b)) == 1

    def __str__(self):
        word = {True: "yes", False: "no", WITHIN_NOISE: WITHIN_NOISE}[self.outcome]
        name = f"{self.yardstick.label}, {len(self.yardstick.accuracies)} seeds"
        if self.width > self.yardstick.width:
            name = "the test set's sampling floor"
        return f"{word} ({100 * self.difference:+.2f} pts; band {100 * self.width:.2f}: {name})" + (
            "; one seed" if self.one_seed else ""
        )


def compare(a, b, *yardsticks: Spread) -> Comparison:
    """Does `a` beat `b`? Each side: a test accuracy, a record, or a list of seeds (their mean is used).

    The band is the widest of the yardsticks given (the seed spreads of the networks compared, at the same
    budget), and never narrower than the test set's sampling floor; see Comparison.outcome.

    Introduced in notebook 02.
    """
    if not yardsticks:
        raise ValueError("compare needs a yardstick: the seed spread (noise.seed_spread) of the networks compared")
    return Comparison(accuracies(a), accuracies(b), widest(*yardsticks))


def recorded_spread(budget: str, notebook: str, run: str, seeds=(1, 2), epochs=None) -> Spread:
    """The spread of a recorded run and its recorded seed runs (<run>_seed<N>, see training.train_more_seeds).

    Introduced in notebook 03.
    """
    return seed_spread(
        [load_result(budget, notebook, run)] + [load_result(budget, notebook, f"{run}_seed{seed}") for seed in seeds],
        epochs,
    )


def seeds_of(record: dict) -> list:
    """`record` and its recorded seed runs (<run>_seed<N>, as train_more_seeds names them):
    what a claim about it averages.

    Introduced in notebook 05.
    """
    found = [record]
    for seed in range(1, 10):
        try:
            found.append(load_result(record["budget"], record["notebook"], f"{record['run']}_seed{seed}"))
        except MissingResultError:
            break
    return found


def widest(*spreads: Spread) -> Spread:
    """The widest of several spreads: the stricter yardstick when more than one applies."""
    return max(spreads, key=lambda spread: spread.width)


# The runs of the article's CNN (notebooks 01-04) trained with three seeds: 02's combined run and 03's final network.
STEP_SEED_RUNS = (("02_data_augmentation", "crop+flip+whiten"), ("03_model_improvements", "LRN"))


def steps_yardstick(budget: str, epochs=None) -> Spread:
    """The article CNN's one yardstick at `budget` (notebooks 02, 03, 04 and 09):
    the widest of its recorded seed spreads (with `epochs`: read as runs of that length, for shorter runs).

    02 runs before 03 has seeds, so a first run of 02 is judged by its own seeds alone; the name says which.

    Introduced in notebook 02.
    """
    spreads = []
    for notebook, run in STEP_SEED_RUNS:
        try:
            spreads.append(recorded_spread(budget, notebook, run, epochs=epochs))
        except MissingResultError:
            continue
    if not spreads:
        raise MissingResultError(
            f"No seed runs of the article's CNN under the {budget!r} budget: run notebook 02 first."
        )
    return widest(*spreads)
