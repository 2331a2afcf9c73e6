"""Notebook 10's speedrun parts: whitening, Dirac init, alternating flip, triangle, optimizer, TTA, the model."""

import keras
import numpy as np
import pytest

from cifar_helpers import speedrun, tta, whitening
from cifar_helpers.augment import PadAndRandomCrop
from cifar_helpers.schedules import Triangle
from cifar_helpers.split import split_validation
from conftest import fake_images


def smooth_images(count=40, seed=0):
    """Images whose neighbouring pixels and channels are correlated (as in real photos), float64."""
    noise = np.random.default_rng(seed).normal(size=(count, 17, 17, 3))
    big = noise.repeat(2, axis=1).repeat(2, axis=2)[:, :32, :32]  # 2x2 blocks: strong spatial correlation
    return big + 0.5 * big.mean(axis=-1, keepdims=True) + 0.1 * np.random.default_rng(seed + 1).normal(size=big.shape)


def test_whitening_filters_give_patches_identity_covariance():
    images = smooth_images()
    kernel = whitening.whitening_kernel(images, eps=1e-12)
    assert kernel.shape == (2, 2, 3, 24)
    np.testing.assert_allclose(kernel[..., 12:], -kernel[..., :12])
    np.testing.assert_allclose(whitening.patch_covariance_after(kernel, images), np.eye(12), atol=1e-6)


def test_the_epsilon_only_shrinks_the_flattest_directions():
    images = smooth_images()
    eigenvalues, _ = whitening.whitening_filters(images)
    covariance = whitening.patch_covariance_after(whitening.whitening_kernel(images), images)
    np.testing.assert_allclose(np.diag(covariance), eigenvalues / (eigenvalues + whitening.EPSILON), rtol=1e-6)
    assert np.all(np.diff(eigenvalues) <= 0) and np.abs(covariance - np.diag(np.diag(covariance))).max() < 1e-6


def test_patches_are_flattened_row_column_channel():
    images = np.arange(2 * 3 * 3 * 2, dtype=float).reshape(2, 3, 3, 2)
    rows = whitening.patches(images, 2)
    assert rows.shape == (2 * 2 * 2, 8)
    np.testing.assert_array_equal(rows[0], images[0, :2, :2].reshape(-1))


def test_partial_dirac_passes_the_first_channels_through():
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    conv = keras.layers.Conv2D(6, 3, padding="same", use_bias=False, kernel_initializer=speedrun.PartialDirac())
    out = keras.ops.convert_to_numpy(conv(x))
    np.testing.assert_allclose(out[..., :4], x, atol=1e-6)
    assert np.abs(out[..., 4:]).max() > 0  # the extra filters are random, not zero
    narrow = keras.layers.Conv2D(2, 3, padding="same", use_bias=False, kernel_initializer=speedrun.PartialDirac())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(narrow(x)), x[..., :2], atol=1e-6)


def test_alternating_flip_flips_every_image_on_odd_epochs_only():
    x = np.random.default_rng(0).normal(size=(5, 4, 4, 3)).astype("float32")
    layer = speedrun.AlternatingFlip()
    layer.build(x.shape)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=True)), x)
    layer.odd_epoch.assign(1.0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=True)), x[:, :, ::-1])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)


def test_the_callback_sets_the_epoch_parity_during_fit():
    class Watch(keras.callbacks.Callback):
        def __init__(self, layer):
            super().__init__()
            self.layer, self.seen = layer, []

        def on_train_batch_begin(self, batch, logs=None):
            self.seen.append(float(keras.ops.convert_to_numpy(self.layer.odd_epoch)))

    flip = speedrun.AlternatingFlip()
    model = keras.Sequential([keras.Input((4, 4, 3)), flip, keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    watch = Watch(flip)
    model.fit(
        np.zeros((4, 4, 4, 3)),
        np.zeros((4, 2)),
        batch_size=4,
        epochs=4,
        verbose=0,
        callbacks=[speedrun.FlipOnOddEpochs(), watch],
    )
    assert watch.seen == [0.0, 1.0, 0.0, 1.0]


def test_the_flip_callback_refuses_a_model_without_the_layer():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="without an AlternatingFlip"):
        model.fit(np.zeros((2, 2)), np.zeros((2, 1)), epochs=1, verbose=0, callbacks=[speedrun.FlipOnOddEpochs()])


def test_triangle_rises_then_falls_in_steps():
    schedule = Triangle(2.0, total_steps=100)
    rates = [float(keras.ops.convert_to_numpy(schedule(step))) for step in range(100)]
    assert rates[0] == pytest.approx(0.4) and max(rates) == pytest.approx(2.0) and rates[23] == pytest.approx(2.0)
    assert rates[-1] == pytest.approx(2.0 * (1 + (0.07 - 1) * 76 / 77))
    assert np.all(np.diff(rates[:24]) > 0) and np.all(np.diff(rates[23:]) < 0)
    assert 0.5 < schedule.mean_factor() < 0.6
    with pytest.raises(ValueError, match="at least 2 steps"):
        Triangle(1.0, total_steps=1)


def test_airbench_units_become_keras_units():
    rate, l2 = speedrun.keras_rate_and_decay(11.5, 0.0153, 0.85, 1024)
    assert rate == pytest.approx(1.5, rel=1e-3) and l2 == pytest.approx(0.0153 / 11.5)
    assert speedrun.keras_rate_and_decay(11.5, 0.0153, 0.85, 512)[0] == pytest.approx(rate / 2)


def one_step(fast_scale, l2, gradient):
    slow, fast = keras.Variable(np.ones(3, "float32"), name="slow"), keras.Variable(np.ones(3, "float32"), name="fast")
    optimizer = speedrun.SpeedrunSGD(0.1, momentum=0.5, l2=l2, fast_paths=[fast.path], fast_scale=fast_scale)
    optimizer.apply([np.full(3, gradient, "float32")] * 2, [slow, fast])
    return 1 - keras.ops.convert_to_numpy(slow)[0], 1 - keras.ops.convert_to_numpy(fast)[0]


def test_fast_variables_move_faster_but_decay_alike():
    slow_step, fast_step = one_step(fast_scale=8.0, l2=0.0, gradient=1.0)
    assert fast_step == pytest.approx(8 * slow_step) and slow_step == pytest.approx(0.1 * 1.5)
    slow_decay, fast_decay = one_step(fast_scale=8.0, l2=0.2, gradient=0.0)
    assert fast_decay == pytest.approx(slow_decay) and slow_decay == pytest.approx(0.1 * 0.2 * 1.5)


def test_lookahead_writes_the_average_back_every_few_steps():
    variable = keras.Variable(np.zeros(1, "float32"), name="w")
    optimizer = speedrun.SpeedrunSGD(0.1, momentum=0.0, l2=0.0, lookahead_every=2, total_steps=4)
    values = []
    for _ in range(4):
        optimizer.apply([np.ones(1, "float32")], [variable])
        values.append(float(keras.ops.convert_to_numpy(variable)[0]))
    # plain SGD would reach -0.4; the pull back to the (lagging) average keeps it nearer 0
    assert values[-1] > -0.4 + 1e-3 and values[0] == pytest.approx(-0.1)


def test_the_private_hooks_were_read_in_this_keras():
    """Fails on a new Keras on purpose: re-read its base_optimizer.py EMA hooks, then bump PRIVATE_HOOKS_READ_IN."""
    assert keras.__version__.startswith(speedrun.PRIVATE_HOOKS_READ_IN + "."), (
        f"Keras {keras.__version__}: SpeedrunSGD overrides {speedrun.PRIVATE_HOOKS}, read in Keras "
        f"{speedrun.PRIVATE_HOOKS_READ_IN}; check they still mean the same there"
    )


def test_keras_still_calls_the_overridden_hooks():
    """The average at every step, the write-back every `lookahead_every` steps and at the end of fit. (On JAX,
    Keras inlines the periodic write-back, keras/src/backend/jax/optimizer.py, and calls the hook only at the end.)"""
    calls = []

    class Spy(speedrun.SpeedrunSGD):
        def _update_model_variables_moving_average(self, trainable_variables):
            calls.append("average")
            super()._update_model_variables_moving_average(trainable_variables)

        def _overwrite_model_variables_with_average_value(self, trainable_variables):
            calls.append("write back")
            super()._overwrite_model_variables_with_average_value(trainable_variables)

    variable = keras.Variable(np.zeros(1, "float32"), name="w")
    optimizer = Spy(0.1, momentum=0.0, l2=0.0, lookahead_every=2, total_steps=4)
    for _ in range(2):
        optimizer.apply([np.ones(1, "float32")], [variable])
    average = keras.ops.convert_to_numpy(optimizer._model_variables_moving_average[0])
    assert calls.count("average") == 2
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), average)  # written back at step 2
    optimizer.apply([np.ones(1, "float32")], [variable])
    assert keras.ops.convert_to_numpy(variable)[0] == pytest.approx(average[0] - 0.1)  # step 3: SGD's step, kept
    calls.clear()
    optimizer.finalize_variable_values([variable])
    assert calls == ["write back"]


def test_a_keras_without_the_hooks_is_refused_and_another_version_warned():
    class Bare:
        pass

    with pytest.raises(RuntimeError, match="leave lookahead out"):
        speedrun.check_private_hooks("9.0.0", base=Bare)
    with pytest.warns(UserWarning, match="this is Keras 9.1.0"):
        speedrun.check_private_hooks("9.1.0")


def test_shifted_moves_the_image_and_reflects_the_border():
    images = fake_images(2)
    np.testing.assert_array_equal(tta.shifted(images, 0, 0), images)
    np.testing.assert_array_equal(tta.shifted(images, 1, 1)[:, :-1, :-1], images[:, 1:, 1:])
    np.testing.assert_array_equal(tta.shifted(images, -1, -1)[:, 0, 1:], images[:, 1, :-1])


def test_tta_levels_and_their_check():
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ]
    )
    images = fake_images(6)
    np.testing.assert_allclose(
        tta.tta_logits(model, images, 0), model.predict(images.astype("float32"), verbose=0), rtol=1e-5
    )
    assert tta.tta_logits(model, images, 2).shape == (6, 10)
    with pytest.raises(ValueError, match="TTA level"):
        tta.tta_logits(model, images, 3)


def test_reflect_padding_crop_brings_in_no_zeros():
    images = np.ones((8, 6, 6, 1), "float32")
    out = keras.ops.convert_to_numpy(PadAndRandomCrop(2, mode="reflect")(images, training=True))
    assert out.min() == 1.0
    with pytest.raises(ValueError, match="mode"):
        PadAndRandomCrop(2, mode="wrap")


@pytest.mark.parametrize(
    "without",
    [
        (),
        (
            "whitening",
            "dirac",
            "batchnorm",
            "triangle",
            "lookahead",
            "alternating_flip",
            "translate",
            "label_smoothing",
        ),
    ],
)
def test_the_speedrun_model_trains_with_and_without_its_tricks(tiny_cifar, without, tmp_path):
    split = split_validation(tiny_cifar, val_size=50)
    model = speedrun.speedrun_model(split.x_train, epochs=1, batch_size=64, widths=(4, 8, 8), without=without)
    whiten = model.get_layer("whiten")
    assert whiten.kernel.trainable == ("whitening" in without)
    assert bool(model.optimizer.fast_paths) == ("batchnorm" not in without)
    labels = keras.utils.to_categorical(split.y_train, 10)
    model.fit(split.x_train, labels, batch_size=64, epochs=1, verbose=0, callbacks=speedrun.speedrun_callbacks(without))
    assert np.isfinite(model.evaluate(split.x_val, keras.utils.to_categorical(split.y_val, 10), verbose=0)[0])
    model.save_weights(tmp_path / "final.weights.h5")  # on JAX, lookahead's final write-back once freed buffers here


def test_an_unknown_trick_is_named():
    with pytest.raises(ValueError, match="unknown trick"):
        speedrun.check_tricks(["mixup"])
