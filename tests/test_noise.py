"""Seed spreads and comparisons against them."""

import pytest

from cifar_helpers import noise
from cifar_helpers.noise import WITHIN_NOISE, compare, sampling_floor, seed_spread


def record(seed, accuracy, **other):
    return {
        "notebook": "02_x",
        "budget": "quick",
        "epochs": 20,
        "train_size": 8000,
        "params": 10,
        "label": "base",
        "seed": seed,
        "test_accuracy": accuracy,
        **other,
    }


def test_spread_is_highest_minus_lowest():
    spread = seed_spread([record(0, 0.60), record(1, 0.62), record(2, 0.61)])
    assert spread.width == pytest.approx(0.02) and spread.mean == pytest.approx(0.61)
    assert str(spread) == "base, 3 seeds: 60.00%, 62.00%, 61.00%; mean 61.00%, spread 2.00 points"


def test_a_difference_counts_only_beyond_the_spread():
    spread = seed_spread([record(0, 0.60), record(1, 0.62)])
    assert compare(0.65, 0.62, spread).outcome is True
    assert compare(0.60, 0.65, spread).outcome is False
    assert compare(record(3, 0.63), record(4, 0.615), spread).outcome == WITHIN_NOISE


def test_a_verdict_names_its_band_and_says_when_it_rests_on_one_seed():
    spread = seed_spread([record(0, 0.60), record(1, 0.62)])
    assert str(compare(0.65, 0.62, spread)) == "yes (+3.00 pts; band 2.00: base, 2 seeds); one seed"
    seeds = [record(0, 0.66), record(1, 0.64)]
    assert str(compare(seeds, [0.60, 0.61], spread)) == "yes (+4.50 pts; band 2.00: base, 2 seeds)"


def test_the_wider_of_several_yardsticks_judges():
    narrow, wide = seed_spread([record(0, 0.60), record(1, 0.605)]), seed_spread([record(0, 0.60), record(1, 0.64)])
    assert compare(0.65, 0.62, narrow).outcome is True and compare(0.65, 0.62, narrow, wide).outcome == WITHIN_NOISE
    with pytest.raises(ValueError, match="needs a yardstick"):
        compare(0.65, 0.62)


def test_no_band_is_narrower_than_the_test_sets_sampling_floor():
    assert sampling_floor(0.8) == pytest.approx(0.004) and sampling_floor(0.5, images=2_500) == pytest.approx(0.01)
    tight = seed_spread([record(0, 0.800), record(1, 0.801)])  # 0.1 points apart: under the floor
    assert compare(0.803, 0.800, tight).outcome == WITHIN_NOISE
    assert "band 0.40: the test set's sampling floor" in str(compare(0.803, 0.800, tight))
    assert compare(0.806, 0.800, tight).outcome is True


def test_records_that_are_not_one_run_are_refused():
    with pytest.raises(ValueError, match="at least two different seeds"):
        seed_spread([record(0, 0.6), record(0, 0.61)])
    with pytest.raises(ValueError, match="not one run"):
        seed_spread([record(0, 0.6), record(1, 0.61, epochs=8)])


def test_recorded_spread_reads_a_run_and_its_seed_runs(tmp_path, monkeypatch):
    from cifar_helpers.noise import recorded_spread, widest
    from cifar_helpers.records import result_path, write_json_atomically

    monkeypatch.setenv("CIFAR_RESULTS_DIR", str(tmp_path))
    for run, seed, accuracy in (("base", 0, 0.60), ("base_seed1", 1, 0.63), ("base_seed2", 2, 0.61)):
        write_json_atomically(result_path("quick", "02_x", run), record(seed, accuracy, run=run))
    spread = recorded_spread("quick", "02_x", "base")
    assert spread.accuracies == (0.60, 0.63, 0.61)
    narrow = seed_spread([record(0, 0.60), record(1, 0.61)])
    assert widest(narrow, spread) is spread and widest(spread, narrow) is spread
    with pytest.raises(FileNotFoundError):
        recorded_spread("quick", "02_x", "base", seeds=(1, 3))


def test_steps_yardstick_is_the_wider_of_02s_and_03s_spreads(tmp_path, monkeypatch):
    from cifar_helpers.noise import steps_yardstick
    from cifar_helpers.records import result_path, write_json_atomically

    monkeypatch.setenv("CIFAR_RESULTS_DIR", str(tmp_path))
    for notebook, run, accuracies in (
        ("02_data_augmentation", "crop+flip+whiten", (0.70, 0.71, 0.72)),
        ("03_model_improvements", "LRN", (0.74, 0.75, 0.77)),
    ):
        for seed, accuracy in enumerate(accuracies):
            name = run if seed == 0 else f"{run}_seed{seed}"
            write_json_atomically(
                result_path("quick", notebook, name), record(seed, accuracy, notebook=notebook, run=name, label=run)
            )
    spread = steps_yardstick("quick")
    assert spread.label == "LRN" and spread.width == pytest.approx(0.03)
    with pytest.raises(FileNotFoundError):
        steps_yardstick("overnight")


def test_a_run_tested_after_every_epoch_is_read_by_its_last_five_epochs():
    tested = [0.70, 0.71, 0.72, 0.80, 0.79, 0.81, 0.78, 0.82]
    record = {"test_accuracy": 0.82, "test_each_epoch": True, "history": {"test_accuracy": tested}}
    assert noise.readout(record) == pytest.approx(sum(tested[-5:]) / 5)
    assert noise.readout({"test_accuracy": 0.82}) == 0.82  # tested once, at the end
    assert noise.accuracies([record, 0.5]) == (pytest.approx(0.80), 0.5)
    other = {**record, "history": {"test_accuracy": [t - 0.01 for t in tested]}}
    assert noise.compare(record, other, noise.Spread("x", (0.8, 0.801))).difference == pytest.approx(0.01)


def every_epoch_tested(seed, curve):
    """A record tested after every epoch, its test accuracies `curve`."""
    return record(seed, curve[-1], test_each_epoch=True, history={"test_accuracy": list(curve)})


def test_the_readout_by_epoch_is_each_epochs_own_readout_as_a_shorter_run():
    curve = [0.50, 0.60, 0.62, 0.64, 0.66, 0.70, 0.72]
    by_epoch = noise.readout_by_epoch(every_epoch_tested(0, curve))
    assert len(by_epoch) == len(curve) - noise.READOUT_EPOCHS + 1
    for epochs in range(noise.READOUT_EPOCHS, len(curve) + 1):  # epoch `epochs`: the run stopped there
        assert by_epoch[epochs - noise.READOUT_EPOCHS] == pytest.approx(
            noise.readout(every_epoch_tested(0, curve[:epochs]))
        )


def test_a_gain_by_epoch_is_the_difference_of_the_seed_means_in_points_over_the_shorter_run():
    after = [every_epoch_tested(0, [0.6] * 7), every_epoch_tested(1, [0.7] * 7)]
    before = every_epoch_tested(0, [0.5] * 6)
    assert noise.gain_by_epoch(after, before) == pytest.approx([15.0, 15.0])


def test_a_readout_by_epoch_needs_every_epoch_tested():
    with pytest.raises(ValueError, match="test_each_epoch=True"):
        noise.readout_by_epoch(record(0, 0.6))
    with pytest.raises(ValueError, match="at least 5 epochs"):
        noise.readout_by_epoch(every_epoch_tested(0, [0.5, 0.6]))


def test_a_readout_at_an_epoch_is_that_shorter_runs_readout_and_refuses_epochs_it_does_not_hold():
    curve = [0.50, 0.60, 0.62, 0.64, 0.66, 0.70, 0.72]
    tested = every_epoch_tested(0, curve)
    assert noise.readout_at(tested, 6) == pytest.approx(noise.readout(every_epoch_tested(0, curve[:6])))
    assert noise.readout_at(tested, len(curve)) == pytest.approx(noise.readout(tested))
    for outside in (noise.READOUT_EPOCHS - 1, len(curve) + 1):
        with pytest.raises(ValueError, match=f"a readout at epoch {outside} needs"):
            noise.readout_at(tested, outside)


def test_runs_trained_longer_are_read_at_the_length_of_the_runs_they_are_compared_with():
    curves = ([0.50, 0.60, 0.62, 0.64, 0.66, 0.70, 0.72], [0.50, 0.60, 0.64, 0.64, 0.70, 0.70, 0.74])
    seeds = [{**every_epoch_tested(seed, curve), "epochs": len(curve)} for seed, curve in enumerate(curves)]
    short = record(5, 0.61, epochs=6)
    assert noise.read_at([seeds[0], short], 6) == [pytest.approx(noise.readout_at(seeds[0], 6)), short]
    at_six = noise.seed_spread(seeds, epochs=6)
    assert at_six.label == "base at epoch 6" and at_six.width == pytest.approx(0.656 - 0.644)  # epochs 2-6' means
    assert noise.seed_spread(seeds, epochs=7).width == pytest.approx(noise.seed_spread(seeds).width)
