"""Each lesson's direction, pinned from the committed records of quick and overnight (fails if a re-run turns it)."""

import json
from pathlib import Path

import pytest

from cifar_helpers import noise
from cifar_helpers.noise import WITHIN_NOISE, compare, read_at, seed_spread, steps_yardstick
from cifar_helpers.noise import seeds_of as with_seeds

RESULTS = Path(__file__).resolve().parents[1] / "results"
pytestmark = pytest.mark.usefixtures("project_results")  # noise and records read the committed results/
QUICK = RESULTS / "quick"


def record(notebook, run, budget="quick"):
    """One committed record (quick unless told)."""
    return json.loads((RESULTS / budget / notebook / f"{run}.json").read_text())


def verdict(a, b, *yardsticks):
    """noise.compare's outcome: True, False or WITHIN_NOISE."""
    return compare(a, b, *yardsticks).outcome


def final_loss(run_record):
    """A recorded run's training loss after its last epoch."""
    return run_record["history"]["loss"][-1]


SEEDED = {  # family: (notebook, run whose seeds 1 and 2 are recorded as <run>_seed1, <run>_seed2)
    "01-04": ("02_data_augmentation", "crop+flip+whiten"),
    "05-06": ("05_deeper_plain_networks", "plain20"),
    "07": ("07_stuck_at_60_percent", "asker"),
    "08": ("08_inception_ideas", "reduction_parallel"),
}


def seeds_of(notebook, run, budget="quick"):
    """The seed spread of a run and its recorded seeds 1 and 2."""
    return seed_spread([record(notebook, name, budget) for name in (run, f"{run}_seed1", f"{run}_seed2")])


def spread_of(family, budget="quick"):
    """The seed spread of the family's representative run."""
    return seeds_of(*SEEDED[family], budget)


@pytest.mark.parametrize("family", sorted(SEEDED))
def test_each_family_has_three_seeds_of_one_run(family):
    spread = spread_of(family)
    assert len(spread.accuracies) == 3 and spread.width > 0


@pytest.mark.parametrize("budget", ["quick", "overnight"])
@pytest.mark.parametrize("depth", [20, 32])
def test_at_equal_depth_the_residual_net_fits_and_tests_better_beyond_noise(depth, budget):
    plain = record("05_deeper_plain_networks", f"plain{depth}", budget)
    residual = record("06_residual_networks", f"resnet{depth}", budget)
    assert final_loss(residual) < final_loss(plain)
    assert verdict(residual, plain, spread_of("05-06", budget)) is True


def test_depth_raises_the_plain_nets_training_loss_more_than_the_residual_nets():
    plain = [final_loss(record("05_deeper_plain_networks", f"plain{d}")) for d in (14, 20, 32)]
    residual = [final_loss(record("06_residual_networks", f"resnet{d}")) for d in (20, 32)]
    assert plain == sorted(plain), "from 14 layers on, deeper plain nets end with a higher training loss"
    # At 256 steps (quick) the deeper ResNet's start-up cost keeps the difference small (06 says so);
    # at 376 steps, an earlier quick budget, the residual nets' rise was under half the plain nets'.
    assert residual[1] - residual[0] < plain[2] - plain[1]


def test_the_stories_final_network_beats_the_askers_beyond_noise():
    final, asker = record("07_stuck_at_60_percent", "final"), record("07_stuck_at_60_percent", "asker")
    assert final["config"]["bn_momentum"] == 0.9
    assert verdict(final, asker, spread_of("07")) is True


def test_every_committed_quick_record_names_its_backend_and_data():
    for path in QUICK.glob("*/*.json"):
        saved = json.loads(path.read_text())
        assert saved["backend"] in ("tensorflow", "jax") and saved["data_source"], path.name


# overnight: all 45,000 training images on 2 CPU cores (issue targets, on the JPEG copy)


def test_overnight_01_baseline_reaches_65_percent_on_all_the_data():
    baseline = record("01_baseline_cnn", "baseline", "overnight")
    assert baseline["train_size"] == 45_000 and baseline["epochs"] == 60 and baseline["test_accuracy"] >= 0.65


def test_overnight_01_the_baseline_memorises_long_before_its_last_epoch():
    history = record("01_baseline_cnn", "baseline", "overnight")["history"]
    best = history["val_loss"].index(min(history["val_loss"]))
    assert best < 20 and history["val_loss"][-1] > 2 * min(history["val_loss"])  # the validation loss turns up early
    assert history["accuracy"][-1] - max(history["val_accuracy"]) >= 0.20  # and training accuracy runs away


def test_overnight_01_longer_run_over_fits_by_ten_points():
    history = record("01_baseline_cnn", "baseline_long", "overnight")["history"]
    assert len(history["accuracy"]) == 90
    assert history["accuracy"][-1] - max(history["val_accuracy"]) >= 0.10
    assert history["val_loss"][-1] > min(history["val_loss"])  # the validation loss has turned up


def test_overnight_02_all_three_beat_the_baseline_and_whitening_alone_does_at_epoch_10():
    band, notebook = steps_yardstick("overnight"), "02_data_augmentation"
    combined = with_seeds(record(notebook, "crop+flip+whiten", "overnight"))  # its three seeds: their mean
    baseline = record("01_baseline_cnn", "baseline", "overnight")
    assert len(combined) == 3 and all(r["epochs"] == baseline["epochs"] == 60 for r in combined)
    assert verdict(combined, baseline, band) is True
    short = steps_yardstick("overnight", epochs=10)  # the singles train 10 epochs: all read at epoch 10
    single = {run: record(notebook, run, "overnight") for run in ("crop", "flip", "whiten")}
    assert all(r["epochs"] == 10 for r in single.values())
    baseline_10 = read_at(baseline, 10)
    assert verdict(single["whiten"], baseline_10, short) is True
    assert verdict(single["whiten"], single["flip"], short) is True
    assert verdict(single["crop"], baseline_10, short) is False  # under-trained at 10 epochs
    assert verdict(read_at(combined, 10), single["whiten"], short) == WITHIN_NOISE


def test_overnight_02_the_crop_alone_is_still_learning_while_whitening_memorises():
    whiten, crop = (record("02_data_augmentation", run, "overnight") for run in ("whiten", "crop"))
    assert crop["history"]["val_accuracy"][-1] == max(crop["history"]["val_accuracy"])  # best at its last epoch
    assert crop["history"]["accuracy"][-1] < crop["history"]["val_accuracy"][-1]  # it fits its images worse
    assert whiten["history"]["accuracy"][-1] > whiten["history"]["val_accuracy"][-1]  # whitening over-fits instead


def test_overnight_02_augmentation_pays_most_where_the_baseline_memorises():
    longer = record("02_data_augmentation", "crop+flip+whiten_long", "overnight")
    baseline_longer = record("01_baseline_cnn", "baseline_long", "overnight")
    assert longer["epochs"] == baseline_longer["epochs"]
    assert longer["test_accuracy"] - baseline_longer["test_accuracy"] >= 0.04  # the 4 points, at equal epochs


def test_overnight_03_step_3_beats_step_2_beyond_noise_and_batch_norm_carries_it():
    band, notebook = steps_yardstick("overnight"), "03_model_improvements"
    start = with_seeds(record("02_data_augmentation", "crop+flip+whiten", "overnight"))
    final = with_seeds(record(notebook, "LRN", "overnight"))
    assert (
        [r["config"]["pipeline"] for r in final]
        == [start[0]["config"]["pipeline"]] * 3
        == [{"crop": 24, "flip": True, "whiten": True}] * 3
    ), "step 3 keeps step 2's front end"
    assert all(r["config"]["switches"]["weight_decay"] == 1e-4 / 256 for r in final), "the article's penalty"
    assert verdict(final, start, band) is True
    chain = (
        [start] + [record(notebook, run, "overnight") for run in ("weight_decay", "dropout", "batch_norm")] + [final]
    )
    helps = [verdict(after, before, band) for before, after in zip(chain, chain[1:])]
    assert helps == [WITHIN_NOISE, True, True, WITHIN_NOISE], "weight decay, dropout, batch norm, LRN"
    gains = [noise.readout(after) - noise.readout(before) for before, after in zip(chain[1:-1], chain[2:-1])]
    assert max(gains) == gains[1], "batch norm's gain is the largest"


def test_overnight_03_keras_usual_penalty_costs_accuracy_beyond_noise():
    notebook = "03_model_improvements"
    keras_usual, article = (record(notebook, run, "overnight") for run in ("LRN_decay_1e-4", "LRN"))
    assert keras_usual["config"]["switches"]["weight_decay"] == 1e-4
    assert verdict(article, keras_usual, steps_yardstick("overnight")) is True


def test_overnight_03_the_gain_grows_with_training():
    step2 = with_seeds(record("02_data_augmentation", "crop+flip+whiten", "overnight"))
    step3 = with_seeds(record("03_model_improvements", "LRN", "overnight"))
    gain = noise.gain_by_epoch(step3, step2)
    at = {epoch: gain[epoch - noise.READOUT_EPOCHS] for epoch in (10, 30, 60)}
    assert 0 < at[10] < at[30] < at[60]


def test_overnight_04_the_first_drop_shows_and_the_articles_schedule_matches_step_3():
    band, notebook = steps_yardstick("overnight"), "04_learning_rate_schedule"
    constant, one_drop, two_drops, from_03 = (record(notebook, f"schedule_{i}", "overnight") for i in range(4))
    assert all(r["epochs"] == 60 for r in (constant, one_drop, two_drops, from_03))
    assert two_drops["config"]["switches"]["weight_decay"] == 1e-4 / 256, "03's final network, the article's penalty"
    first = two_drops["config"]["drops_after_epochs"][0]  # the first epoch at the new rate is first + 1
    for dropped in (two_drops, from_03):  # a jump on the curve at the drop, not a drift, from either rate
        val = dropped["history"]["val_accuracy"]
        assert val[first] - val[first - 1] > band.width
    assert verdict(one_drop, constant, band) is True and verdict(two_drops, constant, band) is True
    assert verdict(two_drops, one_drop, band) == WITHIN_NOISE, "the second drop adds nothing measurable"
    step_3 = with_seeds(record("03_model_improvements", "LRN", "overnight"))
    assert verdict(constant, step_3, band) is False, "Adam at 0.01 is worse than 03's 0.001"
    assert verdict(two_drops, step_3, band) == WITHIN_NOISE and verdict(from_03, step_3, band) == WITHIN_NOISE


def test_overnight_05_past_14_layers_plain_nets_fit_and_test_worse_beyond_noise():
    spread = spread_of("05-06", "overnight")
    plain = {d: record("05_deeper_plain_networks", f"plain{d}", "overnight") for d in (8, 14, 20, 32)}
    losses = [plain[d]["history"]["loss"][-1] for d in (14, 20, 32)]
    assert losses == sorted(losses), "from 14 layers on, a deeper plain net ends with a higher training loss"
    assert verdict(plain[14], plain[20], spread) is True and verdict(plain[20], plain[32], spread) is True
    assert verdict(plain[14], plain[8], spread) is True  # the article's 8 -> 14 improvement


def test_overnight_06_deeper_residual_nets_test_better_beyond_noise():
    spread = spread_of("05-06", "overnight")
    resnet = {d: record("06_residual_networks", f"resnet{d}", "overnight") for d in (20, 32, 56)}
    assert verdict(resnet[32], resnet[20], spread) is True and verdict(resnet[56], resnet[32], spread) is True
    longer = record("06_residual_networks", "resnet20_long", "overnight")  # twice the steps: the budget is the limit
    assert verdict(longer, resnet[56], spread) is True and max(longer["history"]["val_accuracy"]) > 0.85


def test_overnight_07_the_fix_beats_the_askers_net_whose_50_epochs_plateau_near_80_percent():
    notebook = "07_stuck_at_60_percent"
    final, asker = (record(notebook, run, "overnight") for run in ("final", "asker"))
    assert verdict(final, asker, seeds_of(notebook, "asker", "overnight")) is True
    long = record(notebook, "asker_long", "overnight")
    last_val = long["history"]["val_accuracy"][-15:]
    assert max(last_val) - min(last_val) < 0.025, "validation accuracy flat over the last 15 of 50 epochs"
    assert long["history"]["accuracy"][-1] - last_val[-1] > 0.08, "while training accuracy runs ahead"
    assert long["test_accuracy"] > 0.70, "on this copy the plateau's height is near 80%, not the asker's 60%"


def test_overnight_08_no_bottleneck_penalty_parallel_trails_and_inception_beats_resnet20():
    notebook, spread = "08_inception_ideas", spread_of("08", "overnight")
    ways = ("pool_then_conv", "conv_then_pool", "parallel")
    way = {name: record(notebook, f"reduction_{name}", "overnight") for name in ways}
    assert verdict(way["pool_then_conv"], way["conv_then_pool"], spread) == WITHIN_NOISE
    assert verdict(way["conv_then_pool"], way["parallel"], spread) is True
    assert verdict(record(notebook, "label_smoothing", "overnight"), way["parallel"], spread) == WITHIN_NOISE
    inception, inception_resnet = (record(notebook, run, "overnight") for run in ("inception", "inception_resnet"))
    assert verdict(inception, record("06_residual_networks", "resnet20", "overnight"), spread) is True
    assert final_loss(inception_resnet) > final_loss(inception), "the residual net fits slower"
    unscaled = record(notebook, "inception_resnet_unscaled", "overnight")
    assert verdict(unscaled, inception_resnet, spread) is False, "the 0.2 residual scale is not what holds it back"
