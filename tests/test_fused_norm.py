"""The fused batch norm: the same function, gradients and moving averages as Keras' own layer, and its weights."""

import keras
import numpy as np
import pytest
from keras import layers

from cifar_helpers import fused_norm
from cifar_helpers.machinery import fingerprint
from cifar_helpers.diagnose import loss_gradients


def one_layer_net(norm, seed=0):
    """Conv -> batch norm (the speedrun's settings: no scale, momentum 0.6, epsilon 1e-12) -> dense."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    x = norm(momentum=0.6, epsilon=1e-12, scale=False)(layers.Conv2D(4, 3)(inputs))
    return keras.Model(inputs, layers.Dense(2, activation="softmax")(layers.Flatten()(x)))


@pytest.fixture
def images():
    return np.random.default_rng(1).normal(2.0, 3.0, size=(16, 8, 8, 3)).astype("float32")


def test_training_step_matches_keras_batch_norm(images):
    keras_net, fused_net = one_layer_net(layers.BatchNormalization), one_layer_net(fused_norm.BatchNormalization)
    fused_net.set_weights(keras_net.get_weights())
    np.testing.assert_allclose(fused_net(images, training=True), keras_net(images, training=True), atol=1e-5)
    labels = np.arange(len(images)) % 2
    for fused, plain in zip(loss_gradients(fused_net, images, labels), loss_gradients(keras_net, images, labels)):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(fused), keras.ops.convert_to_numpy(plain), rtol=1e-4, atol=1e-6
        )
    keras_bn, fused_bn = keras_net.layers[2], fused_net.layers[2]  # the moving averages, after two steps each
    np.testing.assert_allclose(fused_bn.moving_mean.numpy(), keras_bn.moving_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(fused_bn.moving_variance.numpy(), keras_bn.moving_variance.numpy(), rtol=1e-5)
    assert not np.allclose(keras_bn.moving_variance.numpy(), 1.0)  # the step did move them
    np.testing.assert_allclose(fused_net(images, training=False), keras_net(images, training=False), atol=1e-5)


def test_it_fuses_only_a_tensorflow_training_step_on_images(images):
    norm = fused_norm.BatchNormalization()
    norm.build(images.shape)
    on_tensorflow = keras.backend.backend() == "tensorflow"
    assert norm.fuses(images, True, None) is on_tensorflow
    assert not norm.fuses(images, False, None)
    assert not norm.fuses(images.reshape(16, -1), True, None)


def test_weights_saved_with_keras_batch_norm_load_into_the_fused_one(tmp_path, images):
    keras_net = one_layer_net(layers.BatchNormalization)
    keras_net(images, training=True)
    keras_net.save_weights(tmp_path / "plain.weights.h5")
    fused_net = one_layer_net(fused_norm.BatchNormalization, seed=1)
    fused_net.load_weights(tmp_path / "plain.weights.h5")
    np.testing.assert_allclose(fused_net(images, training=False), keras_net(images, training=False), atol=1e-6)


def test_a_record_stamp_reads_the_fused_layer_as_keras_own():
    stamp = fingerprint.fingerprint
    keras_net, fused_net = one_layer_net(layers.BatchNormalization), one_layer_net(fused_norm.BatchNormalization)
    for net in (keras_net, fused_net):
        net.compile(optimizer="sgd", loss="mse")
    assert stamp(fused_net) == stamp(keras_net)
    other = one_layer_net(lambda **settings: layers.BatchNormalization(**{**settings, "momentum": 0.9}))
    other.compile(optimizer="sgd", loss="mse")
    assert stamp(other)["network"] != stamp(keras_net)["network"]  # a real change still shows
