"""The reuse decision on its own: which record stands in for a run, and when its model comes back too.

Records here are plain dictionaries written to a temporary results folder: nothing trains.
"""

import json

import pytest

from cifar_helpers.machinery import matching

WANTED = {key: 1 for key in matching.MATCHED_FIELDS if key != "test_each_epoch"} | {
    "fingerprint": {"network": "abc", "optimizer": {"learning_rate": 0.001}, "loss": "l", "metrics": ["m"]}
}


def recorded(tmp_path, **changes):
    """A record of WANTED (with `changes`) at tmp_path/run.json; returns its path."""
    path = tmp_path / "run.json"
    path.write_text(json.dumps({**WANTED, "run": "run", "notebook": "99", "epochs": 1, **changes}))
    return path


@pytest.mark.parametrize(
    "changes, said",
    [
        ({}, None),
        ({"seed": 2}, "seed 2 -> 1"),
        ({"test_each_epoch": True}, "test_each_epoch true -> null"),
        ({"fingerprint": {**WANTED["fingerprint"], "network": "xyz"}}, "the network (its layers or their settings)"),
        ({"fingerprint": {**WANTED["fingerprint"], "optimizer": {"learning_rate": 0.01}}}, "rate 0.01 -> 0.001"),
    ],
)
def test_a_record_stands_in_exactly_when_nothing_that_defines_the_run_differs(tmp_path, capsys, changes, said):
    found = matching.recorded_run(recorded(tmp_path, **changes), WANTED)
    if said is None:
        assert found is not None and found["run"] == "run"
    else:
        assert found is None and said in capsys.readouterr().out


def test_nothing_stands_in_when_retraining_is_asked_or_no_record_exists(tmp_path, monkeypatch):
    assert matching.recorded_run(tmp_path / "none.json", WANTED) is None
    path = recorded(tmp_path)
    monkeypatch.setenv("CIFAR_RETRAIN", "1")
    assert matching.recorded_run(path, WANTED) is None
    monkeypatch.setenv("CIFAR_RETRAIN", "0")
    assert matching.recorded_run(path, WANTED) is not None


def extra_scores(model, split):
    return {}


@pytest.mark.parametrize(
    "record, expected",
    [
        ({}, False),  # an old record without extra test scores
        ({"test_tta_accuracy": 0.9}, True),  # an old record with some: taken to hold them
        ({"scores": "extra_scores"}, True),
        ({"scores": "other_scores"}, False),
    ],
)
def test_a_record_holds_the_scores_asked_only_when_it_names_them(record, expected):
    assert matching.has_scores(record, extra_scores) is expected
    assert matching.has_scores(record, None) is True  # no scores asked: any record


class Model:
    """Stands in for a Keras model: reuse only builds the optimizer and loads weights."""

    def __init__(self):
        self.loaded = None
        self.trainable_variables = []
        self.optimizer = type("Optimizer", (), {"build": lambda self, variables: None})()

    def load_weights(self, path):
        self.loaded = path


def record_of_one_epoch():
    return {**WANTED, "run": "run", "epochs": 1, "history": {"loss": [1.0]}, "epoch_seconds": [1.0]}


def test_weights_come_back_only_with_their_own_stamp(tmp_path, capsys):
    record, weights = record_of_one_epoch(), tmp_path / "final.weights.h5"
    weights.write_text("weights")
    (tmp_path / "settings.json").write_text(json.dumps({**record, "seed": 9}))  # another run's weights
    assert matching.reuse(record, Model(), weights, needs_model=False)[1] is None
    assert matching.reuse(record, Model(), weights, needs_model=True) is None  # then the run trains again
    (tmp_path / "settings.json").write_text(json.dumps(record))
    model = matching.reuse(record, Model(), weights, needs_model=True)[1]
    assert model.loaded == weights and "weights from the local cache" in capsys.readouterr().out


def test_several_processes_never_look_for_weights(tmp_path):
    record = record_of_one_epoch()
    assert matching.reuse(record, Model(), None, needs_model=False) == (record, None)
    assert matching.reuse(record, Model(), None, needs_model=True) is None
