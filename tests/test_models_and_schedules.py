"""The shared networks and the epoch-based learning-rate schedules."""

import keras
import numpy as np
import pytest

from cifar_helpers import models, schedules
from cifar_helpers.feed import make_batches


def conv_params(k, c_in, c_out, bias=True):
    return k * k * c_in * c_out + (c_out if bias else 0)


def test_article_cnn_has_the_articles_layers():
    expected = (
        conv_params(3, 3, 64)
        + conv_params(3, 64, 128)
        + conv_params(3, 128, 256)
        + (4 * 4 * 256) * 1024
        + 1024
        + 1024 * 10
        + 10
    )
    assert models.article_cnn().count_params() == expected


def test_switches_add_the_layers_they_name():
    kinds = [type(layer).__name__ for layer in models.article_cnn(dropout=0.5, batch_norm=True, lrn=True).layers]
    assert kinds.count("BatchNormalization") == 4 and kinds.count("LocalResponseNormalization") == 3
    assert kinds.count("Dropout") == 1
    assert all(
        layer.kernel_regularizer is not None
        for layer in models.article_cnn(weight_decay=1e-4).layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
    )


def test_crop_front_end_shrinks_the_flattened_features():
    from cifar_helpers.augment import input_pipeline

    model = models.article_cnn(preprocessing=input_pipeline(crop=24))
    flatten = next(layer for layer in model.layers if isinstance(layer, keras.layers.Flatten))
    assert flatten.output.shape[-1] == 3 * 3 * 256


def test_lrn_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 32)).astype("float32") * 10
    ours = keras.ops.convert_to_numpy(models.LocalResponseNormalization()(x))
    np.testing.assert_allclose(ours, tf.nn.local_response_normalization(x, 7, 1.0, 0.001, 0.75), atol=1e-5)


def test_lrn_divides_by_the_squares_of_its_neighbouring_channels():
    x = np.zeros((1, 1, 1, 20), "float32")
    x[..., 10] = 10.0
    out = keras.ops.convert_to_numpy(models.LocalResponseNormalization(depth_radius=2, alpha=0.01, beta=1.0)(x))
    assert out[0, 0, 0, 10] == pytest.approx(10.0 / (1.0 + 0.01 * 100.0))
    assert np.count_nonzero(out) == 1


def test_label_smoothing_model_is_fed_one_hot_labels_by_train_and_record(tiny_cifar):
    from cifar_helpers.machinery.recorded import train_and_record
    from cifar_helpers.training import wants_one_hot
    from cifar_helpers.split import split_validation

    def build():
        return models.compile_for_classification(models.cifar_resnet(8), "adam", label_smoothing=0.1)

    assert wants_one_hot(build()) and not wants_one_hot(
        models.compile_for_classification(models.cifar_resnet(8), "adam")
    )
    record, _ = train_and_record(
        build,
        split_validation(tiny_cifar, val_size=50),
        notebook="x",
        run="smooth",
        budget="smoke",
        epochs=1,
        batch_size=50,
    )
    assert np.isfinite(record["history"]["loss"][0]) and 0 <= record["test_accuracy"] <= 1


def test_sparse_labels_with_smoothing_loss_fail_in_plain_keras():
    """The trap train_and_record handles: Keras' categorical loss rejects integer labels."""
    model = models.compile_for_classification(models.cifar_resnet(8), "adam", label_smoothing=0.1)
    images = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="must have the same (rank|shape)"):
        model.fit(make_batches(images, np.arange(8) % 10, 4), epochs=1, verbose=0, shuffle=False)


def test_cifar_resnet_counts_match_he_et_al_and_depth_is_checked():
    assert round(models.cifar_resnet(20).count_params() / 1e6, 2) == 0.27
    assert 0.85e6 <= models.cifar_resnet(56).count_params() <= 0.86e6  # 0.85M in the paper
    with pytest.raises(ValueError, match="6n \\+ 2"):
        models.cifar_resnet(21)


def test_plain_and_residual_differ_only_by_the_shortcuts():
    plain, residual = models.cifar_resnet(20, residual=False), models.cifar_resnet(20)
    assert plain.count_params() == residual.count_params()
    assert sum(isinstance(layer, keras.layers.Add) for layer in residual.layers) == 9
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)


def test_zero_pad_shortcut_subsamples_and_pads_channels():
    x = np.random.default_rng(0).random((1, 4, 4, 2)).astype("float32")
    out = np.asarray(models.ZeroPadShortcut(4)(x))
    assert out.shape == (1, 2, 2, 4)
    np.testing.assert_array_equal(out[..., 1:3], x[:, ::2, ::2, :])
    assert not out[..., [0, 3]].any()


def test_piecewise_by_epoch_drops_after_whole_epochs_not_steps():
    schedule = schedules.piecewise_by_epoch([2, 3], [0.01, 0.001, 0.0005], steps_in_epoch=10)
    assert float(schedule(2)) == pytest.approx(0.01)  # step 2 is in epoch 1, not "after epoch 2"
    assert float(schedule(19)) == pytest.approx(0.01)  # last step of epoch 2
    assert float(schedule(20)) == pytest.approx(0.001)  # first step of epoch 3
    assert float(schedule(30)) == pytest.approx(0.0005)  # first step of epoch 4
    assert schedules.rate_at_epochs(schedule, 10, 4) == pytest.approx([0.01, 0.01, 0.001, 0.0005])


def test_piecewise_needs_one_more_value_than_boundaries():
    with pytest.raises(ValueError, match="2 boundaries need 3 values"):
        schedules.piecewise_by_epoch([1, 2], [0.1, 0.01], 5)


def test_steps_per_epoch_counts_the_partial_batch():
    assert schedules.steps_per_epoch(1000, 128) == 8


def test_zero_init_residual_zeroes_one_batch_norm_scale_per_block():
    def zero_gammas(model):
        return sum(
            not layer.gamma.numpy().any()
            for layer in model.layers
            if isinstance(layer, keras.layers.BatchNormalization)
        )

    assert zero_gammas(models.cifar_resnet(20, zero_init_residual=True)) == 9  # 3 stages x 3 blocks
    assert zero_gammas(models.cifar_resnet(20)) == 0


def test_warmup_cosine_rises_linearly_then_decays_to_zero_at_the_last_step():
    optimizer = schedules.sgd_warmup_cosine(epochs=10, steps_in_epoch=10, base_rate=0.1, warmup_fraction=0.1)
    schedule = optimizer._learning_rate
    assert optimizer.nesterov and optimizer.momentum == pytest.approx(0.9)
    assert float(schedule(0)) == pytest.approx(0.0)
    assert float(schedule(5)) == pytest.approx(0.05)  # half-way up the 10-step warm-up
    assert float(schedule(10)) == pytest.approx(0.1)  # the peak
    assert float(schedule(55)) == pytest.approx(0.05, abs=1e-6)  # half-way down the cosine
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-7)


def test_a_block_passed_in_builds_the_same_network_as_the_switch():
    def my_block(x, filters, strides, weight_decay, zero_init):
        return models.residual_block(x, filters, strides, weight_decay, zero_init)

    built = models.cifar_resnet(20, block=my_block)
    assert built.count_params() == models.cifar_resnet(20).count_params()
    assert sum(isinstance(layer, keras.layers.Add) for layer in built.layers) == 9


def test_zero_initialised_residual_blocks_start_as_the_identity():
    x = keras.Input((8, 8, 16))
    model = keras.Model(x, models.residual_block(x, 16, 1, 1e-4, zero_init=True))
    inputs = np.abs(np.random.default_rng(0).normal(size=(2, 8, 8, 16))).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(inputs, training=False)), inputs, atol=1e-6)


def test_resnet_and_inception_batch_norm_forget_in_tens_of_steps():
    from cifar_helpers import inception

    for model in (models.cifar_resnet(20), models.cifar_resnet(8, residual=False), inception.compact_inception()):
        momenta = {layer.momentum for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)}
        assert momenta == {models.BN_MOMENTUM} == {0.9}, model.name


def test_same_network_compares_layers_weights_and_outputs():
    from cifar_helpers.models import article_cnn, same_network

    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3))
    assert same_network(article_cnn(), article_cnn(), images)
    assert not same_network(article_cnn(dropout=0.5), article_cnn(), images)  # one more layer

    def small(activation):
        return keras.Sequential(
            [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(3, activation=activation)]
        )

    assert not same_network(small("relu"), small("tanh"), images)  # same layers and shapes, other outputs
    flips = [keras.Sequential([keras.Input((32, 32, 3)), keras.layers.RandomFlip("horizontal")]) for _ in range(2)]
    assert same_network(*flips, images)  # compared at test time: random layers draw nothing there
