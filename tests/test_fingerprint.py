"""The stamp of what a run built and compiled: equal for equal builds, and saying what changed."""

import json
from pathlib import Path

import keras

from cifar_helpers import augment, models
from cifar_helpers.machinery.fingerprint import STAMP_MODULES, changes, fingerprint

RESULTS = Path(__file__).resolve().parent.parent / "results"


def built(learning_rate=1e-3, dropout=0.5):
    """The article's step-3 network, compiled as notebook 03 does."""
    model = models.article_cnn(weight_decay=1e-4, dropout=dropout, batch_norm=True)
    return models.compile_for_classification(model, keras.optimizers.Adam(learning_rate))


def test_two_builds_of_one_network_have_one_fingerprint_though_keras_numbers_their_layers_apart():
    first, second = built(), built()
    assert first.layers[1].name != second.layers[1].name
    assert fingerprint(first) == fingerprint(second)


def test_a_changed_learning_rate_is_named_with_both_values():
    assert changes(fingerprint(built()), fingerprint(built(learning_rate=1e-2))) == [
        "optimizer learning_rate 0.001 -> 0.01"
    ]


def test_a_changed_layer_setting_changes_the_network():
    assert changes(fingerprint(built()), fingerprint(built(dropout=0.3))) == [
        "the network (its layers or their settings)"
    ]


def test_a_schedule_of_other_settings_is_named_as_changed():
    def with_schedule(boundaries):
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, [0.1, 0.01])
        return models.compile_for_classification(models.article_cnn(), keras.optimizers.SGD(schedule))

    assert changes(fingerprint(with_schedule([100])), fingerprint(with_schedule([200]))) == [
        "optimizer learning_rate (PiecewiseConstantDecay) settings"
    ]


def test_a_class_moved_to_another_module_keeps_its_stamp(monkeypatch):
    before = fingerprint(built_with_lrn())
    monkeypatch.setattr(models.LocalResponseNormalization, "__module__", "cifar_helpers.elsewhere")
    moved = built_with_lrn()
    assert '"cifar_helpers.elsewhere"' in json.dumps(moved.get_config())  # Keras does write the new module...
    assert fingerprint(moved) == before  # ...and the stamp does not read it


def test_a_class_added_later_is_stamped_by_its_name_alone(monkeypatch):
    monkeypatch.delitem(STAMP_MODULES, "cifar_helpers>LocalResponseNormalization")
    before = fingerprint(built_with_lrn())
    monkeypatch.setattr(models.LocalResponseNormalization, "__module__", "cifar_helpers.elsewhere")
    assert fingerprint(built_with_lrn()) == before


def test_a_changed_setting_of_a_package_layer_changes_the_network():
    wider = built_with_lrn(depth_radius=5)
    assert changes(fingerprint(built_with_lrn()), fingerprint(wider)) == ["the network (its layers or their settings)"]


def test_the_stamp_of_a_committed_record_is_the_one_this_code_computes():
    """The quick step-3 network, built as notebook 03 builds it: a changed stamp would retrain every record."""
    record = json.loads((RESULTS / "quick" / "03_model_improvements" / "LRN.json").read_text())
    model = models.article_cnn(
        preprocessing=augment.input_pipeline(**record["config"]["pipeline"]),
        name="improved_cnn",
        **record["config"]["switches"],
    )
    model = models.compile_for_classification(model, keras.optimizers.Adam(learning_rate=1e-3))
    assert fingerprint(model) == record["fingerprint"]


def built_with_lrn(depth_radius=7):
    """A small network with the package's LRN layer, compiled."""
    inputs = keras.Input((8, 8, 3))
    x = models.LocalResponseNormalization(depth_radius=depth_radius)(keras.layers.Conv2D(4, 3)(inputs))
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
    return models.compile_for_classification(keras.Model(inputs, outputs), keras.optimizers.Adam(1e-3))
