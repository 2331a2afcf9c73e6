"""The stamp of what a run built and compiled: equal for equal builds, and saying what changed."""

import keras

from cifar_helpers import models
from cifar_helpers.fingerprint import changes, fingerprint


def built(learning_rate=1e-3, dropout=0.5):
    """The article's step-3 network, compiled as notebook 03 does."""
    model = models.article_cnn(weight_decay=1e-4, dropout=dropout, batch_norm=True)
    return models.compile_for_classification(model, keras.optimizers.Adam(learning_rate))


def test_two_builds_of_one_network_have_one_fingerprint_though_keras_numbers_their_layers_apart():
    first, second = built(), built()
    assert first.layers[1].name != second.layers[1].name
    assert fingerprint(first) == fingerprint(second)


def test_a_changed_learning_rate_is_named_with_both_values():
    assert changes(fingerprint(built()), fingerprint(built(learning_rate=1e-2))) == ["optimizer learning_rate 0.001 -> 0.01"]


def test_a_changed_layer_setting_changes_the_network():
    assert changes(fingerprint(built()), fingerprint(built(dropout=0.3))) == ["the network (its layers or their settings)"]


def test_a_schedule_of_other_settings_is_named_as_changed():
    def with_schedule(boundaries):
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, [0.1, 0.01])
        return models.compile_for_classification(models.article_cnn(), keras.optimizers.SGD(schedule))
    assert changes(fingerprint(with_schedule([100])), fingerprint(with_schedule([200]))) == [
        "optimizer learning_rate (PiecewiseConstantDecay) settings"]
