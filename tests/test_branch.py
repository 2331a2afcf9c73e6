"""scripts/branch.py: a branch resumes from its trunk's backup at the epoch where their schedules part."""

import keras
import numpy as np
import pytest

from cifar_helpers.machinery.recorded import train_and_record
from cifar_helpers.split import split_validation
from scripts.branch import BranchAt, settings_of

BOUNDARY = 12  # the step after which the two schedules part


def tiny_model(rates):
    """A small net under Adam with a piecewise-constant rate (steps up to BOUNDARY, then after)."""
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([BOUNDARY], list(rates))
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model  # fmt: skip


@pytest.fixture
def split(tiny_cifar):
    return split_validation(tiny_cifar, val_size=50)


def run(split, name, rates, callbacks=()):
    return train_and_record(lambda: tiny_model(rates), split, notebook="99_test", run=name, budget="smoke",
                            epochs=3, batch_size=16, config={"rates": rates}, callbacks=callbacks)[0]  # fmt: skip


def test_a_branch_resumes_from_the_trunk_and_keeps_its_history(split, capsys):
    steps = int(np.ceil(len(split.y_train) / 16))
    assert steps <= BOUNDARY < 2 * steps, "the rates must part after epoch 1, inside epoch 2"
    branch_rates = (1e-3, 1e-4)
    wanted = settings_of(lambda: tiny_model(branch_rates), split, budget="smoke", config={"rates": branch_rates},
                         epochs=3, batch_size=16)  # fmt: skip
    fork = BranchAt(1, budget="smoke", notebook="99_test", trunk="trunk", branch="branch", branch_settings=wanted)
    trunk = run(split, "trunk", (1e-3, 1e-3), callbacks=[fork])
    assert "branched branch from trunk after epoch 1" in capsys.readouterr().out
    branch = run(split, "branch", branch_rates)
    assert "resuming from epoch 1 of 3" in capsys.readouterr().out
    assert branch["history"]["loss"][0] == trunk["history"]["loss"][0]  # the shared epoch, trained once
    assert branch["history"]["loss"][1:] != trunk["history"]["loss"][1:] and len(branch["history"]["loss"]) == 3


def test_a_branch_with_other_settings_is_not_resumed(split, capsys):
    wrong = settings_of(lambda: tiny_model((1e-3, 1e-4)), split, budget="smoke", config={"rates": "other"}, epochs=3,
                        batch_size=16)  # fmt: skip
    fork = BranchAt(1, budget="smoke", notebook="99_test", trunk="trunk", branch="branch", branch_settings=wrong)
    run(split, "trunk", (1e-3, 1e-3), callbacks=[fork])
    capsys.readouterr()
    run(split, "branch", (1e-3, 1e-4))
    assert "resuming" not in capsys.readouterr().out  # its stamp is another run's: trained from the start
